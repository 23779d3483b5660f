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

import { fileHolds } from "./_file/_backend.ts";
import type { Holds } from "./_core/_holds.ts";
import {
  type AcquireOptions,
  type LockOptions,
  LockTimeoutError,
  type Logger,
  type Sleep,
} from "./_core/types.ts";

export { LockTimeoutError };
export type { AcquireOptions, LockOptions, Logger, Sleep };

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
  #holds: Holds<Deno.FsFile, void>;

  /**
   * Makes a lock object; nothing is opened until the first acquire.
   *
   * @param path The lock file: a path or a `file:` URL.
   * @param options The sleep function and logger.
   * @throws {TypeError} If the path or an option is of the wrong type, the
   * path is empty, or it contains a NUL byte.
   */
  constructor(path: string | URL, options?: LockOptions) {
    [this.path, this.#holds] = fileHolds(path, options, "lock");
  }

  /**
   * Whether this object holds the lock.
   *
   * @returns True between a successful acquire and the release.
   */
  get acquired(): boolean {
    return this.#holds.writer !== undefined;
  }

  /**
   * Acquires the lock: one try, then (when blocking) waits as
   * {@linkcode AcquireOptions} says, by watching the file with fasteners'
   * backoff, until `timeout` passes. Calls of one process get the lock in
   * arrival order; a process that has kept the lock for a while steps aside
   * for a moment when another process waits. Disposing the object during a
   * wait rejects the call at once, and nothing of it keeps the process
   * alive.
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
    return (await this.#holds.acquire("exclusive", options)) !== undefined;
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
    this.#holds.release("exclusive", "the lock");
  }

  /**
   * Whether the lock is held and the path still names the file that was
   * locked. False once the file was deleted or replaced while held: the
   * lock then protects nothing, and a new holder may lock the new file.
   *
   * @returns True while the held lock is still the lock on `path`.
   */
  isValid(): boolean {
    return this.#holds.isValid();
  }

  /**
   * Releases the lock if held, stops the object's pending acquire calls
   * (they reject) and makes further acquires throw.
   */
  [Symbol.dispose](): void {
    this.#holds.dispose();
  }
}
