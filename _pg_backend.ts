// Copyright 2026 the @locks/process-lock authors. MIT license.
// PostgreSQL's advisory locks as a backend of the lock objects: the key of a
// name, the backend and holds of a lock, and the decorator maker.

import { createHash } from "node:crypto";
import { acquireOptionsOf, lockedDecorator } from "./_decorate.ts";
import type { LockedDecorator } from "./_decorate.ts";
import {
  ACQUIRE_KEYS,
  checkObject,
  type LockMode,
  resolveAcquireOptions,
} from "./_options.ts";
import {
  acquireHold,
  type Hold,
  releaseHold,
  type SessionOptions,
} from "./_pg_session.ts";
import {
  checkName,
  POSTGRES_KEYS,
  type PostgresLockOptions,
  resolveOptions,
} from "./_pg_options.ts";
import { type Backend, Holds } from "./_holds.ts";
import type { AcquireOptions } from "./_lock_types.ts";

/**
 * The advisory-lock key of a lock name: the first 8 bytes of the SHA-256 of
 * its UTF-8 bytes, as a signed big-endian 64-bit integer. The same in every
 * version of this module and easy to compute in SQL or another language.
 *
 * @param name The lock name.
 * @returns The key.
 * @throws {TypeError} If the name is not a non-empty string.
 *
 * @example Usage
 * ```ts
 * import { postgresLockKey } from "@locks/process-lock/postgres";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof postgresLockKey("nightly-backup"), "bigint");
 * ```
 */
export function postgresLockKey(name: string): bigint {
  checkName(name);
  return createHash("sha256").update(name, "utf8").digest().readBigInt64BE(0);
}

export const NOT_HELD = AbortSignal.abort(new Error("The lock is not held"));

/**
 * The key and the holds of a new lock object on `name`, after checking the
 * name and the options.
 */
export function postgresHolds(
  name: string,
  options: unknown,
): [bigint, Holds<Hold, Promise<void>>] {
  const key = postgresLockKey(name);
  const backend = postgresBackend(
    `the PostgreSQL lock "${name}"`,
    key,
    resolveOptions(options),
  );
  return [key, new Holds(backend, name)];
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
    acquire: (mode, acquireOptions, objectSignal) =>
      acquireHold(lock, key, mode, acquireOptions, options, objectSignal),
    release: (hold) => releaseHold(lock, key, hold, options.logger),
    isValid: (hold) => hold.lease.valid,
  };
}

/**
 * Options of the PostgreSQL decorators: the lock's and the acquire options.
 *
 * @example Usage
 * ```ts
 * import type { PostgresLockedOptions } from "@locks/process-lock/postgres";
 *
 * const options: PostgresLockedOptions = { url: "postgres://db/app", timeout: 5_000 };
 * ```
 */
export type PostgresLockedOptions = PostgresLockOptions & AcquireOptions;

/** The session options among a decorator's (or a semaphore's) options. */
export function sessionOptionsOf(
  options: PostgresLockOptions | undefined,
): SessionOptions {
  return resolveOptions({
    url: options?.url,
    sql: options?.sql,
    logger: options?.logger,
    keepaliveIdle: options?.keepaliveIdle,
    keepaliveInterval: options?.keepaliveInterval,
    keepaliveCount: options?.keepaliveCount,
    lease: options?.lease,
    connectTimeout: options?.connectTimeout,
  });
}

/**
 * Makes a decorator of `mode` on the backend that `backendOf` builds from
 * the checked session options, after checking every option (`extra`: the
 * keys besides the lock's and the acquire options).
 */
export function makePostgresDecorator<H>(
  name: string,
  options: PostgresLockedOptions | undefined,
  mode: LockMode,
  backendOf: (options: SessionOptions) => Backend<H, Promise<void>>,
  extra: readonly string[] = [],
): LockedDecorator {
  checkName(name);
  // Check every option now, so that a mistake shows where it is made.
  checkObject(options, "PostgreSQL decorator options", [
    ...POSTGRES_KEYS,
    ...ACQUIRE_KEYS,
    ...extra,
  ]);
  const backend = backendOf(sessionOptionsOf(options));
  const acquireOptions = acquireOptionsOf(options);
  resolveAcquireOptions(acquireOptions);
  // Each call holds the lock as an object of its own would.
  return lockedDecorator(
    mode,
    () => new Holds(backend, name),
    acquireOptions,
  );
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
