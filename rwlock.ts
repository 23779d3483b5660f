// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * {@linkcode InterProcessReaderWriterLock}: many readers or one writer,
 * across processes and inside one process, with fasteners' options in
 * milliseconds.
 *
 * @example Usage
 * ```ts
 * import { InterProcessReaderWriterLock } from "@locks/process-lock/rwlock";
 *
 * const path = await Deno.makeTempFile();
 * const rw = new InterProcessReaderWriterLock(path);
 * {
 *   await using _ = await rw.readLock();
 *   // ... read while other readers may read too ...
 * }
 * await Deno.remove(path);
 * ```
 *
 * @module
 */

import { fileHolds } from "./_file/_backend.ts";
import type { Holds } from "./_core/_holds.ts";
import type { AcquireOptions, LockOptions } from "./_core/types.ts";
import type { LockMode } from "./_core/_options.ts";

/**
 * An inter-process readers-writer lock on a file: fasteners'
 * `InterProcessReaderWriterLock`. Readers share the lock, across processes
 * and inside one process (also several reads on one object); a writer
 * excludes readers and writers. Writers come first: once a writer of
 * another process waits, new readers wait behind it (for 5 s at most; see
 * the module docs of `mod.ts`). There is no upgrade or downgrade: asking
 * for the write lock while this object holds a read lock waits for that
 * read lock to be released.
 *
 * @example Usage
 * ```ts
 * import { InterProcessReaderWriterLock } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * const rw = new InterProcessReaderWriterLock(path);
 * assert(await rw.acquireReadLock());
 * assert(await rw.acquireReadLock()); // readers share
 * assert(!(await rw.acquireWriteLock({ blocking: false })));
 * rw.releaseReadLock();
 * rw.releaseReadLock();
 * assert(await rw.acquireWriteLock());
 * rw.releaseWriteLock();
 * await Deno.remove(path);
 * ```
 *
 * @example Scoped locks
 * ```ts
 * import { InterProcessReaderWriterLock } from "@locks/process-lock";
 *
 * const path = await Deno.makeTempFile();
 * const rw = new InterProcessReaderWriterLock(path);
 * {
 *   await using _ = await rw.writeLock({ timeout: 5000 });
 *   // ... write alone ...
 * } // released here
 * await Deno.remove(path);
 * ```
 */
export class InterProcessReaderWriterLock implements Disposable {
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
    [this.path, this.#holds] = fileHolds(path, options, "rwlock");
  }

  /**
   * How many read locks this object holds.
   *
   * @returns The number of read locks held.
   */
  get readers(): number {
    return this.#holds.readers.length;
  }

  /**
   * Whether this object holds the write lock.
   *
   * @returns True while the write lock is held.
   */
  get writing(): boolean {
    return this.#holds.writer !== undefined;
  }

  /**
   * Acquires a read lock, shared with other readers.
   *
   * @param options When and how long to wait (see
   * {@linkcode AcquireOptions}).
   * @returns True once held; false when a non-blocking try failed or the
   * timeout passed.
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} If a time is negative, NaN or infinite.
   * @throws The `signal`'s reason when aborted; an `Error` if the object was
   * disposed; a `Deno.errors` error naming the path when the file cannot be
   * opened.
   */
  async acquireReadLock(options?: AcquireOptions): Promise<boolean> {
    return (await this.#holds.acquire("shared", options)) !== undefined;
  }

  /**
   * Acquires the write lock, excluding readers and writers.
   *
   * @param options When and how long to wait (see
   * {@linkcode AcquireOptions}).
   * @returns True once held; false when a non-blocking try failed or the
   * timeout passed.
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} If a time is negative, NaN or infinite.
   * @throws The `signal`'s reason when aborted; an `Error` if the object was
   * disposed; a `Deno.errors` error naming the path when the file cannot be
   * opened.
   */
  async acquireWriteLock(options?: AcquireOptions): Promise<boolean> {
    return (await this.#holds.acquire("exclusive", options)) !== undefined;
  }

  /**
   * Releases the read lock taken last.
   *
   * @throws {Error} If this object holds no read lock.
   */
  releaseReadLock(): void {
    this.#holds.release("shared", "a read lock");
  }

  /**
   * Releases the write lock.
   *
   * @throws {Error} If this object does not hold the write lock.
   */
  releaseWriteLock(): void {
    this.#holds.release("exclusive", "the write lock");
  }

  /**
   * Acquires a read lock for a block: fasteners' `read_lock()` context
   * manager, for `await using _ = await rw.readLock();`.
   *
   * @param options When and how long to wait.
   * @returns A handle whose disposal releases this read lock.
   * @throws {LockTimeoutError} If the timeout passed, or a non-blocking try
   * failed.
   * @throws The errors of {@linkcode InterProcessReaderWriterLock.prototype.acquireReadLock}.
   */
  readLock(options?: AcquireOptions): Promise<Disposable> {
    return this.#scoped("shared", options);
  }

  /**
   * Acquires the write lock for a block: fasteners' `write_lock()` context
   * manager, for `await using _ = await rw.writeLock();`.
   *
   * @param options When and how long to wait.
   * @returns A handle whose disposal releases the write lock.
   * @throws {LockTimeoutError} If the timeout passed, or a non-blocking try
   * failed.
   * @throws The errors of {@linkcode InterProcessReaderWriterLock.prototype.acquireWriteLock}.
   */
  writeLock(options?: AcquireOptions): Promise<Disposable> {
    return this.#scoped("exclusive", options);
  }

  /**
   * Whether every lock this object holds is still on the file that the
   * path names; false when nothing is held, or the file was deleted or
   * replaced while held.
   *
   * @returns True while the held locks are still the locks on `path`.
   */
  isValid(): boolean {
    return this.#holds.isValid();
  }

  /**
   * Releases every lock held, stops the object's pending acquire calls
   * (they reject) and makes further acquires throw.
   */
  [Symbol.dispose](): void {
    this.#holds.dispose();
  }

  async #scoped(
    mode: LockMode,
    options: AcquireOptions | undefined,
  ): Promise<Disposable> {
    const release = await this.#holds.scoped(mode, options);
    return { [Symbol.dispose]: release };
  }
}
