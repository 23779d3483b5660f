// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * The same locks across machines: {@linkcode PostgresLock},
 * {@linkcode PostgresReaderWriterLock}, {@linkcode PostgresSemaphore} and
 * the decorators {@linkcode postgresLocked}, {@linkcode postgresReadLocked},
 * {@linkcode postgresWriteLocked} and {@linkcode postgresSemaphoreLocked},
 * on PostgreSQL's session-level advisory locks. The server frees a lock
 * when the session that holds it ends (crash, kill, network loss), a waiter
 * waits in the server and is woken at once, and shared and exclusive modes
 * map onto the reader-writer lock.
 *
 * - Every hold lives on a session of its own, on a connection that the
 *   lock opens (on a socket it can destroy; only the first host) and, after
 *   a clean unlock, keeps for a second for the next acquisition on the same
 *   server (idle, it never keeps a script from exiting; a test calls
 *   {@linkcode closeIdleSessions} at its end). With `url` it connects there
 *   (`DATABASE_URL` without one); with `sql`, where and as your client
 *   connects (host, port, database, user, password, TLS, its `socket`
 *   factory): your client's pool is never used, so no lock, setting or lost
 *   session can stay on a connection of yours. A kept connection whose
 *   session ended while idle is replaced once, within the call's bounds.
 * - Waiting happens in the server (`pg_advisory_lock`); `timeout` becomes
 *   `lock_timeout` (at most 2^31-1 ms, the server's limit); `signal`
 *   rejects the call at once and ends the session, so an aborted call never
 *   leaves a lock held, even one granted as it aborted. The server waits
 *   writer first: a waiting exclusive request queues new shared ones.
 * - Each session names its process in its application name
 *   (`@locks/process-lock pid N on host`), so
 *   {@linkcode readPostgresLockHolders} can say who holds a lock.
 * - Everything is bounded. Connecting: by the call's timeout (at least 1 s,
 *   so `timeout: 0` may take up to 1 s to connect), or `connectTimeout`
 *   (10 s, or the URL's `connect_timeout` in seconds) without one, and by
 *   its signal. Past that the call throws
 *   {@linkcode PostgresConnectionError}: an outage never reads as `false`
 *   (contention), and neither does a cancel the lock did not ask for. The
 *   release: min(lease, 5 s); if the unlock cannot reach the server in time,
 *   the connection is destroyed, the server frees the lock within the lease,
 *   and the logger says so.
 * - The lease. Each session sets `statement_timeout = 0` and
 *   `idle_in_transaction_session_timeout = 0` (a lock waits as long as its
 *   caller says), and `idle_session_timeout = lease`: the server ends a
 *   session silent for a lease, and frees its locks. While a lock is held, a
 *   heartbeat (`SELECT 1`) runs every third of the lease. The hold is valid
 *   until the send time of the last answered query plus the lease minus a
 *   tenth: the server's idle timer starts after its answer, so it cannot
 *   free the lock before that, and the holder always knows first. A grant
 *   that came after a wait longer than a third of the lease is proven
 *   first: `acquire()` returns once a query sent after the grant is
 *   answered, so a wait of any length is never a loss.
 *   `isValid()` reads the clock (a process that was paused or blocked past
 *   the lease gets false at once, and the reason says so), and `signal`
 *   aborts at that moment. The cost: one round trip per third of a lease
 *   (about 80 bytes).
 * - PostgreSQL 14+ for `idle_session_timeout` and
 *   `client_connection_check_interval` (a waiter whose client died leaves the
 *   server's queue within a second). On older servers the holder still
 *   learns of a loss from the heartbeat, but only the TCP keepalives
 *   (`tcp_keepalives_idle`, `_interval`, `_count`: 10 + 5 x 3 = 25 s) end a
 *   lost holder's session, and not behind a middlebox that keeps TCP alive;
 *   the logger says so at the grant.
 * - What cannot be bounded: a waiter behind a stalled middlebox stays queued
 *   in the server until it is granted (the lease then frees it) or its
 *   socket closes; the caller is bounded by its own timeout or signal.
 * - While a lock is held exclusively, {@linkcode PostgresLock.prototype.token}
 *   is a fencing token: larger than the token of every earlier holder of the
 *   name, on every client. It is `pg_current_xact_id()` taken right after
 *   the grant: no schema needed, but each exclusive acquisition uses up a
 *   transaction id, and it fails on a read-only standby. The lease makes a
 *   holder stop in time; tokens are still needed where it cannot: a holder
 *   paused longer than the lease between its check and its write, and
 *   asynchronous failover (a promoted standby may hand out the same
 *   transaction ids again).
 * - A lock name maps to the 64-bit key of {@linkcode postgresLockKey}: the
 *   first 8 bytes of the SHA-256 of the name's UTF-8 bytes, as a signed
 *   big-endian integer. In SQL:
 *   `('x' || left(encode(sha256(convert_to(name, 'UTF8')), 'hex'), 16))::bit(64)::bigint`.
 *   A held lock shows in `pg_locks` as `locktype = 'advisory'` with
 *   `classid = key >> 32` and `objid = key & 0xffffffff` (as oid) and
 *   `objsubid = 1`.
 * - PgBouncer in transaction pooling mode cannot carry these locks: a
 *   session lock needs the same server session from acquire to release.
 *   Session pooling works.
 * - Errors name the lock (a semaphore's errors name the semaphore), the
 *   server (host:port, never the password), the server's reason and
 *   SQLSTATE (on a plain connection also when the server ended an idle
 *   session, such as `57P01` for `pg_terminate_backend`), the bound that
 *   applied, and what to do; the client's error is the `cause`.
 * - The client: `npm:postgres` 3.4.9 throws outside any promise when a
 *   query is written to a connection whose session died (porsager/postgres
 *   issues 1154, 1199, 1208); the locks never write to a closed connection.
 *
 * Permissions: `--allow-net` for the server, and `--allow-env`: the client
 * reads `PG*` variables even when `url` is given. A missing permission is a
 * {@linkcode PostgresConnectionError} that names the flag. The client (`npm:postgres`,
 * pinned) is imported by its full specifier: no import map needed.
 *
 * @example Usage
 * ```ts ignore
 * import { PostgresLock } from "@locks/process-lock/postgres";
 *
 * await using lock = new PostgresLock("nightly-backup", {
 *   url: "postgres://app@db/app",
 * });
 * if (await lock.acquire({ timeout: 5_000 })) {
 *   try {
 *     console.log("fencing token", lock.token);
 *   } finally {
 *     await lock.release();
 *   }
 * }
 * ```
 *
 * @module
 */

export * from "./lock.ts";
export * from "./semaphore.ts";
export * from "./types.ts";
export { LockTimeoutError } from "../_core/types.ts";
export type { AcquireOptions, Logger } from "../_core/types.ts";
export type { LockedDecorator } from "../_core/_decorate.ts";
export * from "./locks.ts";
export * from "../_core/web_locks.ts";
