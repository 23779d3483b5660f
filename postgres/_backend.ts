// Copyright 2026 the @locks/process-lock authors. MIT license.
// PostgreSQL's advisory locks as a backend of the lock objects: the options
// checked into what each session is given, the backend and holds of a lock,
// the decorator maker, and one statement on a session of its own.

import { lockedDecorator } from "../_core/_decorate.ts";
import type { LockedDecorator } from "../_core/_decorate.ts";
import {
  ACQUIRE_KEYS,
  checkLogger,
  checkObject,
  checkPositive,
  describe,
  type LockMode,
  pick,
} from "../_core/_options.ts";
import { acquireHold, type Hold, releaseHold } from "./_session.ts";
import {
  checkName,
  type PostgresClient,
  type PostgresLockedOptions,
  postgresLockKey,
} from "./types.ts";
import { connectFor, type SessionOptions } from "./_connect.ts";
import { bounded, type Rows } from "./_connection.ts";
import { postgresError } from "./_reasons.ts";
import type { Backend } from "../_core/_backend.ts";
import { Holds } from "../_core/_holds.ts";

/** The keys of `PostgresLockOptions`. */
export const POSTGRES_KEYS: readonly string[] = [
  "url",
  "sql",
  "logger",
  "lease",
  "connectTimeout",
  "keepaliveIdle",
  "keepaliveInterval",
  "keepaliveCount",
];

/**
 * Checks the options of a PostgreSQL lock.
 *
 * @throws {TypeError} On an unknown option or one of the wrong type.
 * @throws {RangeError} On a keepalive that is not a positive number.
 */
export function resolvePostgresOptions(options: unknown): SessionOptions {
  const o = checkObject(options, "PostgreSQL lock options", POSTGRES_KEYS);
  if (o.url !== undefined && o.sql !== undefined) {
    throw new TypeError('Give either the option "url" or "sql", not both');
  }
  const sql = o.sql as { options?: { host?: unknown } } | undefined;
  if (sql !== undefined && !Array.isArray(sql?.options?.host)) {
    throw new TypeError(
      `Option "sql" must be a client of the postgres package (with its options), got ${
        describe(sql)
      }`,
    );
  }
  const logger = checkLogger(o.logger);
  const idle = Math.ceil(
    checkPositive(o.keepaliveIdle, "keepaliveIdle", 10_000) / 1000,
  );
  const interval = Math.ceil(
    checkPositive(o.keepaliveInterval, "keepaliveInterval", 5_000) / 1000,
  );
  const count = checkPositive(o.keepaliveCount, "keepaliveCount", 3);
  if (!Number.isInteger(count)) {
    throw new RangeError(
      `Option "keepaliveCount" must be a whole number, got ${count}`,
    );
  }
  const lease = checkPositive(
    o.lease,
    "lease",
    (idle + interval * count) * 1000,
  );
  if (lease < MIN_LEASE_MS) {
    throw new RangeError(
      `Option "lease" must be at least ${MIN_LEASE_MS} ms, got ${lease}`,
    );
  }
  return {
    url: checkUrl(o.url),
    sql: o.sql as PostgresClient | undefined,
    logger,
    keepalive: { idle, interval, count },
    lease,
    connectTimeout: o.connectTimeout === undefined
      ? undefined
      : checkPositive(o.connectTimeout, "connectTimeout", 0),
  };
}

/** The shortest lease, in milliseconds. */
export const MIN_LEASE_MS = 500;

/**
 * Checks a server URL: a `postgres://` or `postgresql://` URL.
 *
 * @throws {TypeError} On anything else.
 */
export function checkUrl(url: unknown): string | undefined {
  if (url === undefined) return undefined;
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw new TypeError(
      `Option "url" must be a string or a URL, got ${describe(url)}`,
    );
  }
  if (!/^postgres(ql)?:\/\//i.test(String(url))) {
    throw new TypeError(
      `Option "url" must be a postgres:// or postgresql:// URL, got "${
        String(url).replace(/:[^:@/]*@/, ":***@")
      }"`,
    );
  }
  return String(url);
}

export const NOT_HELD = AbortSignal.abort(new Error("The lock is not held"));

/**
 * The key and the holds of a new lock object on `name`, after checking the
 * name and the options.
 */
export function postgresHolds(
  name: string,
  options: unknown,
  kind: string,
): [bigint, Holds<Hold, Promise<void>>] {
  checkName(name);
  const key = postgresLockKey(name);
  const backend = postgresBackend(
    `the PostgreSQL lock "${name}"`,
    key,
    resolvePostgresOptions(options),
  );
  return [key, new Holds(backend, name, kind)];
}

/**
 * PostgreSQL's advisory locks on `key` as the backend of lock objects;
 * `lock` names it in messages (`the PostgreSQL lock "jobs"`).
 */
export function postgresBackend(
  lock: string,
  key: bigint,
  options: SessionOptions,
): Backend<Hold, Promise<void>> {
  return {
    system: "postgres",
    acquire: (mode, acquireOptions, objectSignal) =>
      acquireHold(lock, key, mode, acquireOptions, options, objectSignal),
    release: (hold) => releaseHold(lock, key, hold, options.logger),
    isValid: (hold) => hold.lease.valid,
    lostSignal: (hold) => hold.lease.lost.signal,
  };
}

/** The session options among a decorator's (or a semaphore's) options. */
export function sessionOptionsOf(options: object | undefined): SessionOptions {
  return resolvePostgresOptions(pick(options, POSTGRES_KEYS));
}

/**
 * Makes a decorator of `mode` on the backend that `backendOf` builds from
 * the checked session options, after checking every option.
 */
export function makePostgresDecorator<H>(
  name: string,
  options: object | undefined,
  mode: LockMode,
  backendOf: (options: SessionOptions) => Backend<H, Promise<void>>,
): LockedDecorator {
  checkName(name);
  checkObject(options, "PostgreSQL decorator options", [
    ...POSTGRES_KEYS,
    ...ACQUIRE_KEYS,
  ]);
  const backend = backendOf(sessionOptionsOf(options));
  // Each call holds the lock as an object of its own would.
  return lockedDecorator(mode, () => backend, name, options);
}

/** The decorator of a lock of `mode` on `name`. */
export function makeLockDecorator(
  name: string,
  options: PostgresLockedOptions | undefined,
  mode: LockMode,
): LockedDecorator {
  return makePostgresDecorator(
    name,
    options,
    mode,
    (session) =>
      postgresBackend(
        `the PostgreSQL lock "${name}"`,
        postgresLockKey(name),
        session,
      ),
  );
}

/**
 * Runs one statement on a session of its own (a kept one when there is),
 * within `ms` milliseconds; `what` and `lock` name it in errors.
 *
 * @throws A {@linkcode PostgresConnectionError} naming the server.
 */
export async function runStatement(
  options: SessionOptions,
  what: string,
  lock: string,
  statement: string,
  ms: number,
): Promise<Rows> {
  const signal = new AbortController().signal;
  const deadline = performance.now() + ms;
  const call = { lock, options, signal, deadline, blocking: true };
  const connection = await connectFor(call, false);
  let rows;
  try {
    const left = Math.max(deadline - performance.now(), 1);
    rows = await bounded(connection.query(statement), left, signal, "a query");
  } catch (error) {
    connection.destroy();
    throw postgresError(what, lock, connection.server, error);
  }
  await connection.finish(true);
  return rows;
}
