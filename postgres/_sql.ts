// Copyright 2026 the @locks/process-lock authors. MIT license.
// Every SQL text of the PostgreSQL locks, built in one place: the session's
// settings, the lock statements and the unlock, and what the lock managers
// ask (every request, the names of the keys, ending a holder's session).

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
 * The statement that lists the sessions granted or waiting for the lock
 * `key`: whether granted, whether exclusively, their application name, and
 * their start in epoch ms.
 */
export function holdersStatement(key: bigint): string {
  return "SELECT l.granted, l.mode = 'ExclusiveLock' AS exclusive, " +
    "a.application_name AS name, " +
    "(extract(epoch FROM a.backend_start) * 1000)::float8 AS since " +
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid " +
    `WHERE ${keyCondition(key)} ORDER BY a.backend_start`;
}

/** The rows of `pg_locks` (as `l`) of the advisory lock `key`. */
function keyCondition(key: bigint): string {
  return `l.locktype = 'advisory' AND l.classid = ${
    key >> 32n & 0xffffffffn
  }::oid AND l.objid = ${key & 0xffffffffn}::oid AND l.objsubid = 1`;
}

/** The table of the names of the lock managers' keys. */
const NAMES = "process_lock_names";

/** Records the name of `key` (a JSON string: any name, NUL included). */
export function registerNameStatement(key: bigint, name: string): string {
  const literal = JSON.stringify(name).replaceAll("'", "''");
  return `CREATE TABLE IF NOT EXISTS ${NAMES} ` +
    "(key bigint PRIMARY KEY, name text NOT NULL); " +
    `INSERT INTO ${NAMES} VALUES (${key}, '${literal}') ` +
    "ON CONFLICT (key) DO NOTHING";
}

/**
 * Every session's advisory lock of this database whose name is known:
 * granted or waiting, exclusive or not, the session's application name and
 * the name (JSON), oldest session first.
 */
export function requestsStatement(): string {
  return "SELECT l.granted, l.mode = 'ExclusiveLock' AS exclusive, " +
    "a.application_name AS app, n.name FROM pg_locks l " +
    "JOIN pg_stat_activity a ON a.pid = l.pid " +
    `JOIN ${NAMES} n ON n.key = (l.classid::int8 << 32) | l.objid::int8 ` +
    "WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.database = " +
    "(SELECT oid FROM pg_database WHERE datname = current_database()) " +
    "ORDER BY a.backend_start, l.pid";
}

/** Ends the sessions of other processes that hold the lock `key`. */
export function terminateHoldersStatement(key: bigint): string {
  return "SELECT pg_terminate_backend(l.pid) AS ended FROM pg_locks l " +
    `WHERE l.granted AND ${keyCondition(key)} AND l.pid <> pg_backend_pid()`;
}
