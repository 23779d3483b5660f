// Copyright 2026 the @locks/process-lock authors. MIT license.
// Every SQL text of the PostgreSQL locks, built in one place: the session's
// settings and their reset, the lock statements and the unlock.

import type { LockMode } from "./_options.ts";

/** TCP keepalive settings of a session, in whole seconds and a count. */
export interface Keepalive {
  idle: number;
  interval: number;
  count: number;
}

/**
 * The settings of a lock's session: a waiter whose client died leaves the
 * server's queue within a second, and keepalives bound a vanished host.
 */
export function sessionSettings(keepalive: Keepalive): string {
  return "SET client_connection_check_interval = 1000; " +
    `SET tcp_keepalives_idle = ${keepalive.idle}; ` +
    `SET tcp_keepalives_interval = ${keepalive.interval}; ` +
    `SET tcp_keepalives_count = ${keepalive.count}`;
}

/** Puts back what a lock set on a session reserved from a user's client. */
export const RESET_SETTINGS = "RESET client_connection_check_interval; " +
  "RESET tcp_keepalives_idle; RESET tcp_keepalives_interval; " +
  "RESET tcp_keepalives_count; RESET lock_timeout";

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
