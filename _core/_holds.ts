// Copyright 2026 the @locks/process-lock authors. MIT license.
// The holds of one lock object, whatever the backend (lock files or
// PostgreSQL): its write lock and read locks, the disposer that stops its
// pending calls, scoped holds, and one message for each misuse.

import { type AcquireOptions, LockTimeoutError } from "./types.ts";
import { traced } from "./_telemetry.ts";
import type { Backend } from "./_backend.ts";
import { type LockMode, resolveAcquireOptions } from "./_options.ts";

/** The holds of one lock object on the lock named `name`. */
export class Holds<H, R extends void | Promise<void>> {
  /** The write (exclusive) lock held, if any. */
  writer: H | undefined;
  /** The read (shared) locks held, oldest first. */
  readonly readers: H[] = [];
  readonly #backend: Backend<H, R>;
  readonly #name: string;
  readonly #disposer = new AbortController();

  /**
   * @param name The lock file's path or the lock's name, for messages.
   * @param kind The kind of lock object, for telemetry.
   */
  constructor(backend: Backend<H, R>, name: string, kind: string) {
    this.#backend = traced(backend, { name, kind });
    this.#name = name;
  }

  /**
   * Acquires a lock of `mode` for this object.
   *
   * @returns The hold, or undefined when not acquired.
   * @throws {TypeError|RangeError} On bad options; an `Error` once the
   * object was disposed; what the backend throws.
   */
  async acquire(
    mode: LockMode,
    options: AcquireOptions | undefined,
  ): Promise<H | undefined> {
    const resolved = resolveAcquireOptions(options);
    this.#checkUsable();
    const hold = await this.#backend.acquire(
      mode,
      resolved,
      this.#disposer.signal,
    );
    if (hold === undefined) return undefined;
    if (this.#disposer.signal.aborted) {
      // Disposed as the lock was granted: let it go.
      await this.#backend.release(hold);
      throw this.#disposedError();
    }
    if (mode === "exclusive") this.writer = hold;
    else this.readers.push(hold);
    return hold;
  }

  /**
   * Releases the write lock, or the read lock taken last; `what` names it
   * in the message when it is not held.
   *
   * @throws {Error} If no lock of `mode` is held.
   */
  release(mode: LockMode, what: string): R {
    const hold = mode === "exclusive" ? this.writer : this.readers.at(-1);
    if (hold === undefined) {
      const other = mode === "exclusive"
        ? this.readers.length > 0 && " (a read lock is: use releaseReadLock())"
        : this.writer && " (the write lock is: use releaseWriteLock())";
      throw new Error(
        `Cannot release ${what} on "${this.#name}": it is not held${
          other || ""
        }`,
      );
    }
    return this.#drop(hold);
  }

  /**
   * Acquires a lock of `mode` for a block.
   *
   * @returns What releases it, once (later calls do nothing).
   * @throws {LockTimeoutError} When it could not be had in time.
   */
  async scoped(
    mode: LockMode,
    options: AcquireOptions | undefined,
  ): Promise<() => R | undefined> {
    const hold = await this.acquire(mode, options);
    if (hold === undefined) {
      throw new LockTimeoutError(this.#name, options?.timeout ?? 0);
    }
    return () =>
      this.writer === hold || this.readers.includes(hold)
        ? this.#drop(hold)
        : undefined;
  }

  /**
   * Whether every lock held still protects what it locked.
   *
   * @returns False when nothing is held.
   */
  isValid(): boolean {
    const held = this.writer === undefined ? this.readers : [this.writer];
    return held.length > 0 &&
      held.every((hold) => this.#backend.isValid(hold));
  }

  /** Releases everything held, stops the pending calls, refuses new ones. */
  dispose(): R {
    if (!this.#disposer.signal.aborted) {
      this.#disposer.abort(
        new Error(`The lock object for "${this.#name}" was disposed`),
      );
    }
    return this.#releaseAll();
  }

  /** Releases the holds one after the other, the writer first. */
  #releaseAll(): R {
    const next = this.writer ?? this.readers.at(-1);
    if (next === undefined) return undefined as R;
    const released = this.#drop(next);
    return (released instanceof Promise
      ? released.then(() => this.#releaseAll())
      : this.#releaseAll()) as R;
  }

  #drop(hold: H): R {
    if (this.writer === hold) this.writer = undefined;
    else this.readers.splice(this.readers.indexOf(hold), 1);
    return this.#backend.release(hold);
  }

  #checkUsable(): void {
    if (this.#disposer.signal.aborted) throw this.#disposedError();
  }

  #disposedError(): Error {
    return new Error(
      `Cannot acquire a lock on "${this.#name}": the lock object was disposed`,
    );
  }
}
