// Copyright 2026 the @locks/process-lock authors. MIT license.
// One hold of a PostgreSQL lock: its connection opened within the call's
// bounds, the lock statement raced against an abort, the lease that keeps
// the hold once a query answered after the grant proves the session alive,
// and the release within a bound.

import {
  type LockMode,
  MAX_TIMER_MS,
  type ResolvedAcquireOptions,
} from "../_core/_options.ts";
import type { Logger } from "../_core/types.ts";
import {
  CONNECT_FLOOR_MS,
  type ConnectCall,
  connectFor,
  type SessionOptions,
} from "./_connect.ts";
import { bounded, type Connection, type Rows } from "./_connection.ts";
import { PostgresConnectionError } from "./types.ts";
import { codeOf, postgresError, serverReason } from "./_reasons.ts";
import { Lease } from "./_lease.ts";
import {
  lockStatement,
  type SessionSettings,
  setStatement,
  unlockStatement,
} from "./_sql.ts";

/** One hold: its connection, its lease, and what it holds. */
export interface Hold {
  connection: Connection;
  lease: Lease;
  mode: LockMode;
  token: bigint | undefined;
}

/** A release lets go within min(lease, RELEASE_MS) milliseconds. */
const RELEASE_MS = 5_000;
const LOCK_NOT_AVAILABLE = "55P03";
const ABORTED = Symbol("aborted");

/** What one acquire call is about. */
interface Call extends ConnectCall {
  key: bigint;
  mode: LockMode;
}

/** The `held` column of the last result of several statements. */
function lastHeld(results: Rows): unknown {
  const last = results[results.length - 1];
  const rows = (Array.isArray(last) ? last : results) as Rows;
  return rows[0]?.held;
}

/**
 * Runs the lock statement; an abort of `signal` settles at once and ends
 * the connection, so that a grant that wins the race dies with the session.
 *
 * @returns The `held` column, or ABORTED.
 */
async function lockRacingAbort(
  connection: Connection,
  sql: string,
  signal: AbortSignal,
): Promise<unknown> {
  const outcome = connection.query(sql).then(lastHeld);
  try {
    return await bounded(outcome, Infinity, signal, "the lock");
  } catch (error) {
    if (!signal.aborted) throw error;
    outcome.catch(() => {});
    connection.destroy();
    return ABORTED;
  }
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
    } ${call.lock} (${call.key}, ${call.mode})`,
  );
  return lockStatement(
    setStatement(settings),
    call.mode,
    call.key,
    // The server's lock_timeout stops at the longest timer (24.8 days).
    once ? undefined : Number.isFinite(left) ? Math.min(left, MAX_TIMER_MS) : 0,
  );
}

/**
 * Takes an advisory lock on a connection of its own. A kept connection
 * whose session had ended while it was idle (it failed before the server
 * said anything) is replaced once, within the call's bounds.
 *
 * @param lock The lock for messages: `the PostgreSQL lock "jobs"`.
 * @returns The hold, or undefined when a try failed or the timeout passed.
 * @throws `signal.reason` when aborted; a
 * {@linkcode PostgresConnectionError} when the server cannot be reached or
 * the session ends.
 */
export async function acquireHold(
  lock: string,
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
  const call: Call = { lock, key, mode, options, signal, deadline, blocking };
  const first = await connectFor(call, false);
  try {
    return await holdOn(call, first);
  } catch (error) {
    const ended = error instanceof PostgresConnectionError;
    if (!first.unheardSinceReuse || signal.aborted || !ended) throw error;
    options.logger?.debug(
      `The kept session for ${lock} had ended (${
        (error as Error).message
      }): trying once more on a new one`,
    );
  }
  return await holdOn(call, await connectFor(call, true));
}

/** The lock statement of a call on `connection`, and the hold it gives. */
async function holdOn(
  call: Call,
  connection: Connection,
): Promise<Hold | undefined> {
  const { keepalive, lease } = call.options;
  const settings = { keepalive, lease, version: connection.version };
  const sentAt = performance.now();
  let held: unknown;
  try {
    held = await lockRacingAbort(
      connection,
      statementFor(call, settings),
      call.signal,
    );
  } catch (error) {
    return gaveUp(call, connection, error);
  }
  if (held === ABORTED) throw call.signal.reason;
  if (held === null || held === undefined) {
    await connection.finish(true);
    return undefined;
  }
  const lost = (reason: string) => {
    const message =
      `Lost ${call.lock} on the server at ${connection.server}: ${reason}`;
    call.options.logger?.debug(message);
    return new Error(message);
  };
  const provenAt = await proveAlive(call, connection, sentAt);
  const hold: Hold = {
    connection,
    lease: new Lease(connection, lease, provenAt, lost),
    mode: call.mode,
    token: typeof held === "string" && held !== "" ? BigInt(held) : undefined,
  };
  if (connection.version !== 0 && connection.version < 14) {
    call.options.logger?.debug(
      `PostgreSQL ${connection.version} has no idle_session_timeout: only the keepalives bound a lost holder`,
    );
  }
  call.options.logger?.debug(`Acquired ${call.lock}`);
  return hold;
}

/**
 * After the lock statement failed: the timeout passed (undefined), or the
 * session is gone (a {@linkcode PostgresConnectionError}).
 */
async function gaveUp(
  call: Call,
  connection: Connection,
  error: unknown,
): Promise<undefined> {
  if (codeOf(error) !== LOCK_NOT_AVAILABLE || !Number.isFinite(call.deadline)) {
    connection.destroy();
    throw postgresError(
      "Lost the session while acquiring",
      call.lock,
      connection.server,
      serverReason(connection, error),
    );
  }
  await connection.finish(true);
  call.options.logger?.debug(`Gave up on ${call.lock}: its timeout passed`);
  return undefined;
}

/**
 * The time from which the server cannot free a lock granted on
 * `connection` before a lease has passed: when the grant came soon after
 * the lock statement was sent (`sentAt`), that; after a longer wait, the
 * send time of a query answered after the grant. Bounded by the lease and
 * by the call's time left (at least the connect floor) and signal.
 *
 * @throws A {@linkcode PostgresConnectionError} when the session does not
 * answer in time, having ended it (so the grant dies with it).
 */
async function proveAlive(
  call: Call,
  connection: Connection,
  sentAt: number,
): Promise<number> {
  const { lease } = call.options;
  if (!Lease.proofDue(sentAt, lease)) return sentAt;
  const at = performance.now();
  const ms = Math.min(
    Lease.usable(lease),
    Math.max(call.deadline - at, CONNECT_FLOOR_MS),
  );
  try {
    await bounded(connection.query("SELECT 1"), ms, call.signal, "a query");
    return at;
  } catch (error) {
    connection.destroy();
    if (call.signal.aborted) throw call.signal.reason;
    throw postgresError(
      "Lost the session right after acquiring",
      call.lock,
      connection.server,
      serverReason(connection, error),
    );
  }
}

/**
 * Unlocks and ends a hold within min(lease, RELEASE_MS); when the server
 * cannot be told in time, the connection is destroyed (the server frees the
 * lock when the lease runs out, or at once when the socket closes).
 */
export async function releaseHold(
  lock: string,
  key: bigint,
  hold: Hold,
  logger: Logger | undefined,
): Promise<void> {
  const { connection, lease } = hold;
  lease.stop();
  if (lease.lost.signal.aborted) return;
  const ms = Math.min(lease.ms, RELEASE_MS);
  try {
    await bounded(
      connection.query(unlockStatement(hold.mode, key)),
      ms,
      undefined,
      "the unlock",
    );
  } catch (error) {
    logger?.debug(
      `Could not unlock ${lock} on the server at ${connection.server} (${
        (error as Error).message
      }): closed the connection, so the server frees the lock when the lease runs out`,
    );
    connection.destroy();
    return;
  }
  await connection.finish(true);
}
