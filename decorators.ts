// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * Decorators that hold an inter-process lock around every call of a
 * function: {@linkcode interprocessLocked},
 * {@linkcode interprocessReadLocked} and
 * {@linkcode interprocessWriteLocked}. Each works as a plain wrapper and as a
 * standard (TC39) method decorator.
 *
 * @example Usage
 * ```ts
 * import { interprocessLocked } from "@locks/process-lock/decorators";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * const double = interprocessLocked(path)(async (x: number) => x * 2);
 * assert((await double(21)) === 42);
 * await Deno.remove(path);
 * ```
 *
 * @module
 */

import type { AcquireOptions, LockOptions } from "./_core/types.ts";
import { lockedDecorator } from "./_core/_decorate.ts";
import type { LockedDecorator } from "./_core/_decorate.ts";
import { fileBackend } from "./_file/_backend.ts";
import {
  ACQUIRE_KEYS,
  checkObject,
  type LockMode,
  pick,
} from "./_core/_options.ts";
import { LOCK_KEYS, resolveLockOptions, toLockPath } from "./_file/_options.ts";

export type { LockedDecorator };

/**
 * Options of the decorators: the lock's options and the acquire options.
 *
 * @example Usage
 * ```ts
 * import { interprocessLocked, type LockedOptions } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const log: string[] = [];
 * const options: LockedOptions = {
 *   timeout: 5_000,
 *   logger: { debug: (...data) => log.push(data.join(" ")) }, // or console
 * };
 * const path = await Deno.makeTempFile();
 * const run = interprocessLocked(path, options)(() => 1);
 * assert((await run()) === 1);
 * assert(log[0].startsWith("Attempt 1"));
 * await Deno.remove(path);
 * ```
 */
export type LockedOptions = LockOptions & AcquireOptions;

function makeDecorator(
  path: string | URL,
  options: LockedOptions | undefined,
  mode: LockMode,
): LockedDecorator {
  const lockPath = toLockPath(path);
  checkObject(options, "Decorator options", [...LOCK_KEYS, ...ACQUIRE_KEYS]);
  const lockOptions = resolveLockOptions(pick(options, LOCK_KEYS));
  return lockedDecorator(
    mode,
    () => fileBackend(lockPath, lockOptions),
    lockPath,
    options,
  );
}

/**
 * Holds an exclusive {@linkcode InterProcessLock} on `path` around every
 * call: fasteners' `interprocess_locked`. The lock is released when the
 * call returns, throws or rejects; arguments, `this` and the result pass
 * through, and the wrapped function becomes async.
 *
 * @param path The lock file: a path or a `file:` URL.
 * @param options The lock's and the acquire options.
 * @returns A wrapper that is also a TC39 method decorator.
 * @throws {TypeError} If the path or an option is of the wrong type.
 * @throws {RangeError} If a time option is negative, NaN or infinite.
 *
 * Calls of the wrapped function reject with {@linkcode LockTimeoutError}
 * when the `timeout` passes (the function then does not run).
 *
 * @example As a wrapper
 * ```ts
 * import { interprocessLocked } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * const add = interprocessLocked(path, { timeout: 5000 })(
 *   async (a: number, b: number) => a + b,
 * );
 * assert((await add(1, 2)) === 3);
 * await Deno.remove(path);
 * ```
 *
 * @example As a method decorator
 * ```ts
 * import { interprocessLocked } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * class Job {
 *   runs = 0;
 *   @interprocessLocked(path)
 *   async run(): Promise<number> {
 *     return ++this.runs;
 *   }
 * }
 * assert((await new Job().run()) === 1);
 * await Deno.remove(path);
 * ```
 */
export function interprocessLocked(
  path: string | URL,
  options?: LockedOptions,
): LockedDecorator {
  return makeDecorator(path, options, "exclusive");
}

/**
 * Holds a read lock of an {@linkcode InterProcessReaderWriterLock} on
 * `path` around every call: fasteners' `interprocess_read_locked`. Calls
 * share the lock with other readers.
 *
 * @param path The lock file: a path or a `file:` URL.
 * @param options The lock's and the acquire options.
 * @returns A wrapper that is also a TC39 method decorator.
 * @throws {TypeError} If the path or an option is of the wrong type.
 * @throws {RangeError} If a time option is negative, NaN or infinite.
 *
 * @example Usage
 * ```ts
 * import { interprocessReadLocked } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * const read = interprocessReadLocked(path)(async () => "cached");
 * assert((await Promise.all([read(), read()])).join() === "cached,cached");
 * await Deno.remove(path);
 * ```
 */
export function interprocessReadLocked(
  path: string | URL,
  options?: LockedOptions,
): LockedDecorator {
  return makeDecorator(path, options, "shared");
}

/**
 * Holds the write lock of an {@linkcode InterProcessReaderWriterLock} on
 * `path` around every call: fasteners' `interprocess_write_locked`.
 *
 * @param path The lock file: a path or a `file:` URL.
 * @param options The lock's and the acquire options.
 * @returns A wrapper that is also a TC39 method decorator.
 * @throws {TypeError} If the path or an option is of the wrong type.
 * @throws {RangeError} If a time option is negative, NaN or infinite.
 *
 * @example Usage
 * ```ts
 * import { interprocessWriteLocked } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * class Cache {
 *   @interprocessWriteLocked(path, { timeout: 5000 })
 *   async refresh(): Promise<string> {
 *     return "fresh";
 *   }
 * }
 * assert((await new Cache().refresh()) === "fresh");
 * await Deno.remove(path);
 * ```
 */
export function interprocessWriteLocked(
  path: string | URL,
  options?: LockedOptions,
): LockedDecorator {
  return makeDecorator(path, options, "exclusive");
}
