// Copyright 2026 the @locks/process-lock authors. MIT license.
// Every SQL text of the PostgreSQL locks, built in one place: the session's
// settings, the lock statements and the unlock.

import type { LockMode } from "../_core/_options.ts";

/** TCP keepalive settings of a session, in whole seconds and a count. */
export interface Keepalive {
  idle: number;
  interval: number;
  count: number;
}

/** What a lock's sessions are told. */
export interface SessionSettings {
  keepalive: Keepalive;
  /** The lease, in milliseconds. */
  lease: number;
  /** The server's major version (0: unknown, taken as the newest). */
  version: number;
}

/** The first version with `idle_session_timeout` and the connection check. */
export const LEASE_VERSION = 14;

/**
 * The settings of a lock's session, by name: the server's own timeouts off
 * (a lock waits as long as its caller says), the lease as the idle limit
 * (PostgreSQL 14+), a waiter whose client died leaving the server's queue
 * within a second (14+), and keepalives that bound a vanished host.
 */
function settingsOf(settings: SessionSettings): [string, string | number][] {
  const { keepalive, lease, version } = settings;
  const modern = version === 0 || version >= LEASE_VERSION;
  return [
    ["statement_timeout", 0],
    ["idle_in_transaction_session_timeout", 0],
    ...(modern
      ? [
        ["idle_session_timeout", Math.ceil(lease)],
        ["client_connection_check_interval", 1000],
      ] as [string, number][]
      : []),
    ["tcp_keepalives_idle", keepalive.idle],
    ["tcp_keepalives_interval", keepalive.interval],
    ["tcp_keepalives_count", keepalive.count],
  ];
}

/** The SET statements that start every lock statement of a session. */
export function setStatement(settings: SessionSettings): string {
  return settingsOf(settings).map(([name, value]) => `SET ${name} = ${value}`)
    .join("; ");
}

function suffix(mode: LockMode): string {
  return mode === "shared" ? "_shared" : "";
}

/**
 * The statement that takes the lock `key` in `mode` after `settings`: one
 * try (`lockTimeoutMs` undefined), or a wait in the server of at most
 * `lockTimeoutMs` (0: no limit, as PostgreSQL reads `lock_timeout = 0`).
 * Its last result's `held` is null when a try failed, else the fencing
 * token as text (`pg_current_xact_id()`, taken after the grant in the same
 * statement), or "" for a shared lock.
 */
export function lockStatement(
  settings: string,
  mode: LockMode,
  key: bigint,
  lockTimeoutMs: number | undefined,
): string {
  const token = mode === "shared" ? "NULL" : "pg_current_xact_id()::text";
  if (lockTimeoutMs === undefined) {
    return `${settings}; SELECT CASE WHEN pg_try_advisory_lock${
      suffix(mode)
    }(${key}) THEN coalesce(${token}, '') END AS held`;
  }
  return `${settings}; SET lock_timeout = ${lockTimeoutMs}; ` +
    `SELECT coalesce(${token}, '') AS held FROM (SELECT pg_advisory_lock${
      suffix(mode)
    }(${key})) AS granted`;
}

/** The statement that lets go of the lock `key` held in `mode`. */
export function unlockStatement(mode: LockMode, key: bigint): string {
  return `SELECT pg_advisory_unlock${suffix(mode)}(${key})`;
}

/** The application name of this process's sessions: the library, the pid
 * and the host (PostgreSQL keeps its first 63 bytes). */
export function applicationName(host: string): string {
  return `@locks/process-lock pid ${Deno.pid}${host ? ` on ${host}` : ""}`;
}

/** The pid and host that `applicationName` put in `name`, if it did. */
export function holderOfName(
  name: string,
): { pid: number | undefined; hostname: string } {
  const match = /^@locks\/process-lock pid (\d+)(?: on (.*))?$/.exec(name);
  return match === null
    ? { pid: undefined, hostname: "" }
    : { pid: Number(match[1]), hostname: match[2] ?? "" };
}

/**
 * The statement that lists the sessions granted the lock `key`: whether
 * exclusively, their application name, and their start in epoch ms.
 */
export function holdersStatement(key: bigint): string {
  return "SELECT l.mode = 'ExclusiveLock' AS exclusive, " +
    "a.application_name AS name, " +
    "(extract(epoch FROM a.backend_start) * 1000)::float8 AS since " +
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid " +
    `WHERE l.granted AND l.locktype = 'advisory' AND l.classid = ${
      key >> 32n & 0xffffffffn
    }::oid AND l.objid = ${key & 0xffffffffn}::oid AND l.objsubid = 1 ` +
    "ORDER BY a.backend_start";
}
