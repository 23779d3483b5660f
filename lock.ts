// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * {@linkcode InterProcessLock}: an exclusive lock shared by every process
 * (and every task of this process) that locks the same file, with
 * fasteners' options in milliseconds, plus {@linkcode LockTimeoutError} and
 * the option types shared by every lock kind.
 *
 * @example Usage
 * ```ts
 * import { InterProcessLock } from "@locks/process-lock/lock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * using lock = new InterProcessLock(path);
 * assert(await lock.acquire({ timeout: 1000 }));
 * // ... only one holder at a time runs here ...
 * lock.release();
 * await Deno.remove(path);
 * ```
 *
 * @module
 */

import { acquireFile } from "./_acquire.ts";
import { isHeldFileValid, releaseFile } from "./_hold.ts";
import {
  absoluteLockPath,
  resolveAcquireOptions,
  type ResolvedLockOptions,
  resolveLockOptions,
  toLockPath,
} from "./_options.ts";

/**
 * Options of a lock object, fixed when it is made: fasteners' `sleep_func`
 * and `logger`.
 *
 * @example A logger and a sleep function of your own
 * ```ts
 * import { InterProcessLock, type LockOptions } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const options: LockOptions = {
 *   logger: { debug: (...data) => lines.push(data.join(" ")) },
 *   sleep: (ms, { signal } = {}) =>
 *     new Promise((resolve) => {
 *       const id = setTimeout(resolve, ms);
 *       signal?.addEventListener("abort", () => {
 *         clearTimeout(id);
 *         resolve();
 *       });
 *     }),
 * };
 * const path = await Deno.makeTempFile();
 * using lock = new InterProcessLock(path, options);
 * await lock.acquire();
 * assert(lines[0].startsWith("Attempt 1"));
 * await Deno.remove(path);
 * ```
 */
export interface LockOptions {
  /**
   * Sleeps between the tries of a call with a `timeout` or a `signal` (a
   * call without either waits in the kernel and never sleeps). It receives
   * the time in milliseconds and a signal that is aborted when the wait
   * ends early (a release woke the waiter, or the call was aborted); it
   * should stop its timer then. `delay` from `@std/async` has this shape
   * and can be passed as is.
   *
   * @default {a built-in timer}
   */
  sleep?: (ms: number, options?: { signal?: AbortSignal }) => Promise<void>;
  /**
   * Hears each attempt and each wait at debug level. `console` works.
   *
   * @default {undefined}
   */
  logger?: { debug(...data: unknown[]): void };
}

/**
 * Options of one acquire call, with fasteners' defaults in milliseconds.
 *
 * How a blocking call waits for a lock held by another process: without
 * `timeout` and `signal` nothing can cancel it, so it waits in the kernel
 * (`FsFile.lock()`, woken the moment the lock is free, no polling). With
 * either, it watches the lock file (a release wakes it) and tries again
 * after `delay`, `delay` more after each pause, up to `maxDelay`: fasteners'
 * backoff, as the safety net for releases that make no event.
 *
 * @example Waiting at most five seconds, or until the user gives up
 * ```ts
 * import { type AcquireOptions, InterProcessLock } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const controller = new AbortController();
 * const options: AcquireOptions = {
 *   timeout: 5_000,
 *   delay: 20,
 *   maxDelay: 200,
 *   signal: controller.signal,
 * };
 * const path = await Deno.makeTempFile();
 * using lock = new InterProcessLock(path);
 * assert(await lock.acquire(options));
 * await Deno.remove(path);
 * ```
 */
export interface AcquireOptions {
  /**
   * Whether to wait. `false` makes exactly one try.
   *
   * @default {true}
   */
  blocking?: boolean;
  /**
   * The first pause between tries, and how much each failed try adds to
   * it, in milliseconds. Pauses are never shorter than 1 ms.
   *
   * @default {10}
   */
  delay?: number;
  /**
   * The longest pause between tries, in milliseconds; a value below
   * `delay` means `delay`.
   *
   * @default {100}
   */
  maxDelay?: number;
  /**
   * How long to wait at most, in milliseconds; the call then resolves
   * `false`. Omitted: wait without a limit.
   *
   * @default {undefined}
   */
  timeout?: number;
  /** Aborts the wait: the call rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * The error thrown when a lock could not be had in time, by the calls that
 * throw instead of returning `false`: the reader-writer lock's `readLock()`
 * and `writeLock()`, and the decorators.
 *
 * @example Usage
 * ```ts
 * import { LockTimeoutError } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const error = new LockTimeoutError("/tmp/app.lock", 500);
 * assert(error instanceof Error);
 * assert(error.message.includes("/tmp/app.lock"));
 * ```
 */
export class LockTimeoutError extends Error {
  /** The lock file's path. */
  readonly path: string;
  /** The timeout that passed, in milliseconds; 0 for a non-blocking try. */
  readonly timeout: number;

  /**
   * Makes the error.
   *
   * @param path The lock file's path.
   * @param timeout The timeout that passed, in milliseconds (0 for a
   * non-blocking try).
   */
  constructor(path: string, timeout: number) {
    super(
      timeout === 0
        ? `The lock on "${path}" is held by another holder (a try without waiting failed)`
        : `Timed out after ${timeout} ms waiting for the lock on "${path}"`,
    );
    this.name = "LockTimeoutError";
    this.path = path;
    this.timeout = timeout;
  }
}

/**
 * An exclusive inter-process lock on a file: fasteners' `InterProcessLock`.
 *
 * Every holder excludes every other: other processes, other lock objects
 * on the same file in this process, and other `acquire()` calls on this
 * same object (a lock object is also an async mutex). The file is created
 * with its parent directories when missing, is opened without truncation,
 * and is never deleted; a holder that dies frees the lock with it.
 *
 * @example Usage
 * ```ts
 * import { InterProcessLock } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * const lock = new InterProcessLock(path);
 * assert(await lock.acquire());
 * try {
 *   // ... only one holder at a time runs here ...
 * } finally {
 *   lock.release();
 * }
 * await Deno.remove(path);
 * ```
 *
 * @example Released at the end of a block
 * ```ts
 * import { InterProcessLock } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * {
 *   using lock = new InterProcessLock(path);
 *   assert(await lock.acquire({ timeout: 5000 }));
 * } // released here, also when the block throws
 * await Deno.remove(path);
 * ```
 *
 * @example Without waiting
 * ```ts
 * import { InterProcessLock } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * using first = new InterProcessLock(path);
 * using second = new InterProcessLock(path);
 * assert(await first.acquire());
 * assert(!(await second.acquire({ blocking: false })));
 * await Deno.remove(path);
 * ```
 */
export class InterProcessLock implements Disposable {
  /** The lock file's path, as given (a `file:` URL becomes its path). */
  readonly path: string;
  #absolutePath: string;
  #options: ResolvedLockOptions;
  #file: Deno.FsFile | undefined;
  #disposer = new AbortController();

  /**
   * Makes a lock object; nothing is opened until the first acquire.
   *
   * @param path The lock file: a path or a `file:` URL.
   * @param options The sleep function and logger.
   * @throws {TypeError} If the path or an option is of the wrong type, the
   * path is empty, or it contains a NUL byte.
   */
  constructor(path: string | URL, options?: LockOptions) {
    this.path = toLockPath(path);
    this.#absolutePath = absoluteLockPath(this.path);
    this.#options = resolveLockOptions(options);
  }

  /**
   * Whether this object holds the lock.
   *
   * @returns True between a successful acquire and the release.
   */
  get acquired(): boolean {
    return this.#file !== undefined;
  }

  /**
   * Acquires the lock: one try, then (when blocking) waits as
   * {@linkcode AcquireOptions} says: in the kernel when nothing can cancel
   * the call, else by watching the file with fasteners' backoff, until
   * `timeout` passes. Calls of one process get the lock in arrival order;
   * a process that has kept the lock for a while steps aside for a moment
   * when another process waits. Disposing the object during a wait in the
   * kernel rejects the call at once; the lock, when the kernel grants it,
   * is let go at once.
   *
   * @param options When and how long to wait.
   * @returns True once held; false when a non-blocking try failed or the
   * timeout passed.
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} If a time is negative, NaN or infinite.
   * @throws The `signal`'s reason when it aborts the wait; an `Error` if the
   * object was disposed; a `Deno.errors` error naming the path when the
   * lock file cannot be opened (a directory, no permission, ...). Nothing is
   * left held or open after a throw.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    const resolved = resolveAcquireOptions(options);
    this.#checkUsable();
    return await acquireFile({
      absolutePath: this.#absolutePath,
      path: this.path,
      mode: "exclusive",
      options: resolved,
      lockOptions: this.#options,
      objectSignal: this.#disposer.signal,
      onLocked: (file) => {
        this.#file = file;
      },
    });
  }

  /**
   * Releases the lock: empties the owner record, closes the file (other
   * processes can take the lock from here on) and hands the lock to the
   * next task of this process that waits for it, unless this process has
   * kept the lock for 5 ms while another process waits: then it steps
   * aside for 2 ms.
   *
   * @throws {Error} If this object does not hold the lock.
   */
  release(): void {
    const file = this.#file;
    if (file === undefined) {
      throw new Error(
        `Cannot release the lock on "${this.path}": it is not held`,
      );
    }
    this.#file = undefined;
    releaseFile(this.#absolutePath, file, this.#options.logger);
  }

  /**
   * Whether the lock is held and the path still names the file that was
   * locked. False once the file was deleted or replaced while held: the
   * lock then protects nothing, and a new holder may lock the new file.
   *
   * @returns True while the held lock is still the lock on `path`.
   */
  isValid(): boolean {
    return this.#file !== undefined && isHeldFileValid(this.#file, this.path);
  }

  /**
   * Releases the lock if held, stops the object's pending acquire calls
   * (they reject) and makes further acquires throw.
   */
  [Symbol.dispose](): void {
    if (!this.#disposer.signal.aborted) {
      this.#disposer.abort(
        new Error(`The lock object for "${this.path}" was disposed`),
      );
    }
    if (this.#file !== undefined) this.release();
  }

  #checkUsable(): void {
    if (this.#disposer.signal.aborted) {
      throw new Error(
        `Cannot acquire the lock on "${this.path}": the lock object was disposed`,
      );
    }
  }
}
