// Copyright 2026 the @locks/process-lock authors. MIT license.
// One hold of a PostgreSQL lock: its connection opened within the call's
// bounds, the lock statement raced against an abort, the lease that keeps
// the hold, and the release within a bound.

import type { LockMode, ResolvedAcquireOptions } from "./_options.ts";
import {
  bounded,
  type Connection,
  openConnection,
  reserveConnection,
} from "./_pg_connect.ts";
import { codeOf, postgresError } from "./_pg_errors.ts";
import { Lease } from "./_pg_lease.ts";
import { databaseUrl, type PostgresClient } from "./_pg_options.ts";
import {
  type Keepalive,
  lockStatement,
  resetStatement,
  type SessionSettings,
  setStatement,
  unlockStatement,
} from "./_pg_sql.ts";

/** What a lock's options give each of its sessions. */
export interface SessionOptions {
  url: string | undefined;
  sql: PostgresClient | undefined;
  logger: { debug(...data: unknown[]): void } | undefined;
  keepalive: Keepalive;
  /** The lease, in milliseconds. */
  lease: number;
  /** The bound on connecting for a call without a timeout, in ms. */
  connectTimeout: number;
}

/** One hold: its connection, its lease, and what it holds. */
export interface Hold {
  connection: Connection;
  lease: Lease;
  settings: SessionSettings;
  mode: LockMode;
  token: bigint | undefined;
}

/** A call may always take this long to connect, in milliseconds. */
export const CONNECT_FLOOR_MS = 1_000;
/** A release lets go within min(lease, RELEASE_MS) milliseconds. */
const RELEASE_MS = 5_000;
const LOCK_NOT_AVAILABLE = "55P03";
const ABORTED = Symbol("aborted");

/** What one acquire call is about. */
interface Call {
  name: string;
  key: bigint;
  mode: LockMode;
  options: SessionOptions;
  signal: AbortSignal;
  /** When the call gives up (`performance.now()`), Infinity for never. */
  deadline: number;
  blocking: boolean;
}

/**
 * A connection for a call: within its deadline or the floor, else within
 * `connectTimeout`.
 *
 * @throws A {@linkcode PostgresConnectionError} naming the server; the
 * signal's reason when aborted.
 */
async function connectFor(call: Call): Promise<Connection> {
  const { options, signal } = call;
  const wait = call.blocking ? call.deadline - performance.now() : 0;
  const ms = Math.min(
    options.connectTimeout,
    Math.max(wait, CONNECT_FLOOR_MS),
  );
  try {
    return options.sql === undefined
      ? await openConnection(options.url ?? databaseUrl(), ms, signal)
      : await reserveConnection(options.sql, ms, signal);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const server = (error as { server?: string }).server ?? "";
    throw postgresError("Cannot connect for", call.name, server, error);
  }
}

/**
 * Runs `sql` on the connection; an abort of `signal` settles at once.
 *
 * @returns The last result's `held`, or ABORTED. On an abort, the query is
 * abandoned, a grant that won the race is unlocked on a user's connection,
 * and the connection is let go (after `reset`) in the background.
 */
async function lockRacingAbort(
  connection: Connection,
  sql: string,
  unlock: string,
  reset: string,
  signal: AbortSignal,
): Promise<unknown> {
  const query = connection.session.unsafe(sql);
  const outcome = (async () => {
    // Several statements give one result each: the last one tells.
    const results = await query as ArrayLike<unknown>;
    const last = results[results.length - 1];
    const rows = (Array.isArray(last) ? last : results) as ArrayLike<
      Record<string, unknown>
    >;
    return rows[0]?.held;
  })();
  const held = await bounded(outcome, Infinity, signal, "the lock")
    .catch((error) => {
      if (!signal.aborted) throw error;
      return ABORTED;
    });
  if (held === ABORTED) {
    connection.abandon(query);
    outcome.then(async (granted) => {
      if (granted !== null && granted !== undefined) {
        await connection.session.unsafe(unlock);
      }
    }).catch(() => {}).finally(() => connection.finish(false, reset));
  }
  return held;
}

/**
 * The statement of a call: one try when it may not wait or its time is up,
 * else a wait in the server until its deadline.
 */
function statementFor(call: Call, settings: SessionSettings): string {
  const left = Math.floor(call.deadline - performance.now());
  const once = !call.blocking || left < 1;
  call.options.logger?.debug(
    `${
      once ? "Trying" : "Waiting for"
    } the ${call.mode} lock "${call.name}" (${call.key})`,
  );
  return lockStatement(
    setStatement(settings),
    call.mode,
    call.key,
    once ? undefined : Number.isFinite(left) ? left : 0,
  );
}

/**
 * Takes an advisory lock on a connection of its own.
 *
 * @returns The hold, or undefined when a try failed or the timeout passed.
 * @throws `signal.reason` when aborted; a
 * {@linkcode PostgresConnectionError} when the server cannot be reached or
 * the session ends.
 */
export async function acquireHold(
  name: string,
  key: bigint,
  mode: LockMode,
  acquireOptions: ResolvedAcquireOptions,
  options: SessionOptions,
  objectSignal: AbortSignal,
): Promise<Hold | undefined> {
  const { blocking, timeout } = acquireOptions;
  const signal = acquireOptions.signal === undefined
    ? objectSignal
    : AbortSignal.any([acquireOptions.signal, objectSignal]);
  signal.throwIfAborted();
  const deadline = performance.now() + (timeout ?? Infinity);
  const call: Call = { name, key, mode, options, signal, deadline, blocking };
  const connection = await connectFor(call);
  const { keepalive, lease } = options;
  const settings = { keepalive, lease, version: connection.version };
  const sentAt = performance.now();
  let held: unknown;
  try {
    held = await lockRacingAbort(
      connection,
      statementFor(call, settings),
      unlockStatement(mode, key),
      resetStatement(settings),
      signal,
    );
  } catch (error) {
    return gaveUp(call, connection, settings, error);
  }
  if (held === ABORTED) throw signal.reason;
  if (held === null || held === undefined) {
    await connection.finish(true, resetStatement(settings));
    return undefined;
  }
  return await holdOf(call, connection, settings, held, sentAt);
}

/**
 * After the lock statement failed: the timeout passed (undefined), or the
 * session is gone (a {@linkcode PostgresConnectionError}).
 */
async function gaveUp(
  call: Call,
  connection: Connection,
  settings: SessionSettings,
  error: unknown,
): Promise<undefined> {
  if (codeOf(error) !== LOCK_NOT_AVAILABLE || !Number.isFinite(call.deadline)) {
    connection.destroy();
    throw postgresError(
      "Lost the session while acquiring",
      call.name,
      connection.server,
      error,
    );
  }
  await connection.finish(true, resetStatement(settings));
  call.options.logger?.debug(
    `Gave up on the PostgreSQL lock "${call.name}": its timeout passed`,
  );
  return undefined;
}

/** The hold of a granted lock, its lease started (and renewed if due). */
async function holdOf(
  call: Call,
  connection: Connection,
  settings: SessionSettings,
  held: unknown,
  sentAt: number,
): Promise<Hold> {
  const { name, options } = call;
  const lease = new Lease(connection, options.lease, sentAt, (reason) => {
    const message =
      `Lost the PostgreSQL lock "${name}" on the server at ${connection.server}: ${reason}`;
    options.logger?.debug(message);
    return new Error(message);
  });
  if (connection.version !== 0 && connection.version < 14) {
    options.logger?.debug(
      `PostgreSQL ${connection.version} has no idle_session_timeout: only the keepalives bound a lost holder`,
    );
  }
  const hold: Hold = {
    connection,
    lease,
    settings,
    mode: call.mode,
    token: typeof held === "string" && held !== "" ? BigInt(held) : undefined,
  };
  if (!await lease.renewIfDue()) {
    throw postgresError(
      "Lost the session right after acquiring",
      name,
      connection.server,
      lease.lost.signal.reason,
    );
  }
  options.logger?.debug(`Acquired the PostgreSQL lock "${name}"`);
  return hold;
}

/**
 * Unlocks and ends a hold within min(lease, RELEASE_MS); when the server
 * cannot be told in time, the connection is destroyed (the server frees the
 * lock when the lease runs out).
 */
export async function releaseHold(
  name: string,
  key: bigint,
  hold: Hold,
  logger: SessionOptions["logger"],
): Promise<void> {
  const { connection, lease, settings } = hold;
  lease.stop();
  if (lease.lost.signal.aborted) return;
  const ms = Math.min(settings.lease, RELEASE_MS);
  try {
    await bounded(
      connection.session.unsafe(unlockStatement(hold.mode, key)),
      ms,
      undefined,
      "the unlock",
    );
  } catch (error) {
    logger?.debug(
      `Could not unlock the PostgreSQL lock "${name}" on the server at ${connection.server} (${
        (error as Error).message
      }): closed the connection, so the server frees the lock when the lease runs out`,
    );
    connection.destroy();
    return;
  }
  await connection.finish(true, resetStatement(settings));
}
