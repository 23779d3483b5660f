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

import { acquireFile } from "./_acquire.ts";
import { isHeldFileValid, releaseFile } from "./_hold.ts";
import {
  absoluteLockPath,
  type LockMode,
  resolveAcquireOptions,
  type ResolvedLockOptions,
  resolveLockOptions,
  toLockPath,
} from "./_options.ts";
import {
  type AcquireOptions,
  type LockOptions,
  LockTimeoutError,
} from "./lock.ts";

/**
 * An inter-process readers-writer lock on a file: fasteners'
 * `InterProcessReaderWriterLock`. Readers share the lock, across processes
 * and inside one process (also several reads on one object); a writer
 * excludes readers and writers. There is no upgrade or downgrade: asking
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
  #absolutePath: string;
  #options: ResolvedLockOptions;
  #readers: Deno.FsFile[] = [];
  #writer: Deno.FsFile | undefined;
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
   * How many read locks this object holds.
   *
   * @returns The number of read locks held.
   */
  get readers(): number {
    return this.#readers.length;
  }

  /**
   * Whether this object holds the write lock.
   *
   * @returns True while the write lock is held.
   */
  get writing(): boolean {
    return this.#writer !== undefined;
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
    return (await this.#acquire("shared", options)) !== undefined;
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
    return (await this.#acquire("exclusive", options)) !== undefined;
  }

  /**
   * Releases the read lock taken last.
   *
   * @throws {Error} If this object holds no read lock.
   */
  releaseReadLock(): void {
    const file = this.#readers.at(-1);
    if (file === undefined) {
      throw new Error(
        `Cannot release a read lock on "${this.path}": none is held${
          this.#writer ? " (the write lock is: use releaseWriteLock())" : ""
        }`,
      );
    }
    this.#release(file);
  }

  /**
   * Releases the write lock.
   *
   * @throws {Error} If this object does not hold the write lock.
   */
  releaseWriteLock(): void {
    const file = this.#writer;
    if (file === undefined) {
      throw new Error(
        `Cannot release the write lock on "${this.path}": it is not held${
          this.#readers.length > 0
            ? " (a read lock is: use releaseReadLock())"
            : ""
        }`,
      );
    }
    this.#release(file);
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
    const held = this.#writer ? [this.#writer] : this.#readers;
    return held.length > 0 &&
      held.every((file) => isHeldFileValid(file, this.path));
  }

  /**
   * Releases every lock held, stops the object's pending acquire calls
   * (they reject) and makes further acquires throw.
   */
  [Symbol.dispose](): void {
    if (!this.#disposer.signal.aborted) {
      this.#disposer.abort(
        new Error(`The lock object for "${this.path}" was disposed`),
      );
    }
    if (this.#writer !== undefined) this.#release(this.#writer);
    while (this.#readers.length > 0) this.#release(this.#readers.at(-1)!);
  }

  /** Acquires; returns the held file, or undefined when not acquired. */
  async #acquire(
    mode: LockMode,
    options: AcquireOptions | undefined,
  ): Promise<Deno.FsFile | undefined> {
    const resolved = resolveAcquireOptions(options);
    if (this.#disposer.signal.aborted) {
      throw new Error(
        `Cannot acquire a lock on "${this.path}": the lock object was disposed`,
      );
    }
    let held: Deno.FsFile | undefined;
    const acquired = await acquireFile({
      absolutePath: this.#absolutePath,
      path: this.path,
      mode,
      options: resolved,
      lockOptions: this.#options,
      objectSignal: this.#disposer.signal,
      onLocked: (file) => {
        held = file;
        if (mode === "exclusive") this.#writer = file;
        else this.#readers.push(file);
      },
    });
    return acquired ? held : undefined;
  }

  async #scoped(
    mode: LockMode,
    options: AcquireOptions | undefined,
  ): Promise<Disposable> {
    const file = await this.#acquire(mode, options);
    if (file === undefined) {
      throw new LockTimeoutError(this.path, options?.timeout ?? 0);
    }
    return {
      [Symbol.dispose]: () => {
        if (this.#writer === file || this.#readers.includes(file)) {
          this.#release(file);
        }
      },
    };
  }

  #release(file: Deno.FsFile): void {
    if (this.#writer === file) {
      this.#writer = undefined;
    } else {
      this.#readers.splice(this.#readers.indexOf(file), 1);
    }
    releaseFile(this.#absolutePath, file, this.#options.logger);
  }
}
