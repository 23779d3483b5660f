// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * {@linkcode InterProcessSemaphore}: at most `slots` holders at once across
 * every process that uses the same lock file with the same number of
 * slots, and the decorator {@linkcode semaphoreLocked}.
 *
 * - Layout: the file at `path` is the gate, slot i (from 0) is the file
 *   `<path>.<i>`. Each is an ordinary lock file (created when missing,
 *   never deleted, an owner record while held), so `readLockOwner` and
 *   `flock(1)` see each slot's holder.
 * - A holder that dies frees its slot at once: a slot is a kernel lock.
 * - Acquiring: one at a time, callers take the gate (watching it with
 *   fasteners' backoff, as the acquire options say), try the slots in order, and when all are taken
 *   wait on every slot at once (watching each slot file, with the backoff
 *   as a safety net) until one is released; then they leave the gate. So
 *   only the gate's holder watches the slots, and the other waiters wait
 *   for the gate. A try (`blocking: false` or `timeout: 0`) skips the gate:
 *   one try at each slot.
 * - Processes that disagree on `slots` use slots 0 to their own N - 1:
 *   there are never more holders than the largest N in use.
 * - `slots: 1` behaves as a lock (but is not the same lock as an
 *   `InterProcessLock` on `path`: it holds `<path>.0`).
 *
 * @example Usage
 * ```ts
 * import { InterProcessSemaphore } from "@locks/process-lock/semaphore";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * using builds = new InterProcessSemaphore(`${dir}/builds.lock`, { slots: 4 });
 * assert(await builds.acquire({ timeout: 5_000 }));
 * // ... at most 4 builds run here at once, across processes ...
 * builds.release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { lockedDecorator } from "./_core/_decorate.ts";
import type { LockedDecorator } from "./_core/_decorate.ts";
import { fileSemaphoreBackend } from "./_file/_backend.ts";
import type { Backend } from "./_core/_backend.ts";
import { Holds } from "./_core/_holds.ts";
import type { AcquireOptions, LockOptions } from "./_core/types.ts";
import { ACQUIRE_KEYS, pick } from "./_core/_options.ts";
import { LOCK_KEYS, resolveLockOptions, toLockPath } from "./_file/_options.ts";
import { type SlotHold, splitSlots } from "./_core/_semaphore.ts";

/**
 * Options of a semaphore: its number of slots, and the lock options.
 *
 * @example Usage
 * ```ts
 * import type { SemaphoreOptions } from "@locks/process-lock/semaphore";
 *
 * const options: SemaphoreOptions = { slots: 4, logger: console };
 * ```
 */
export interface SemaphoreOptions extends LockOptions {
  /** How many holders at once: a whole number from 1. */
  slots: number;
}

/**
 * Options of {@linkcode semaphoreLocked}: the semaphore's and the acquire
 * options.
 *
 * @example Usage
 * ```ts
 * import type { SemaphoreLockedOptions } from "@locks/process-lock/semaphore";
 *
 * const options: SemaphoreLockedOptions = { slots: 2, timeout: 60_000 };
 * ```
 */
export type SemaphoreLockedOptions = SemaphoreOptions & AcquireOptions;

/**
 * The gate's path, the slots, the backend maker and the options of a file
 * semaphore, after checking the path and the options (no key but `known`).
 */
function checkSemaphore(
  path: string | URL,
  options: unknown,
  known: readonly string[],
): [string, number, () => Backend<SlotHold<Deno.FsFile>, void>, object] {
  const lockPath = toLockPath(path);
  const [slots, o] = splitSlots(options, "Semaphore options", known);
  const lockOptions = resolveLockOptions(pick(o, LOCK_KEYS));
  const backendOf = () => fileSemaphoreBackend(lockPath, slots, lockOptions);
  return [lockPath, slots, backendOf, o];
}

/**
 * A counting semaphore across processes on one machine: at most `slots`
 * holders at once. An object holds at most one slot (a second acquire on
 * it waits for the release, as with the locks).
 *
 * @example Usage
 * ```ts
 * import { InterProcessSemaphore } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/gpu.lock`;
 * using a = new InterProcessSemaphore(path, { slots: 2 });
 * using b = new InterProcessSemaphore(path, { slots: 2 });
 * using c = new InterProcessSemaphore(path, { slots: 2 });
 * assert(await a.acquire() && await b.acquire());
 * assert.deepEqual([a.slot, b.slot], [0, 1]);
 * assert(!(await c.acquire({ timeout: 0 })));
 * a.release();
 * assert(await c.acquire({ timeout: 0 }));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class InterProcessSemaphore implements Disposable {
  /** The gate's path, as given (a `file:` URL becomes its path). */
  readonly path: string;
  /** How many holders at once. */
  readonly slots: number;
  #holds: Holds<SlotHold<Deno.FsFile>, void>;

  /**
   * Makes a semaphore object; nothing is opened until the first acquire.
   *
   * @param path The gate file: a path or a `file:` URL (the slots are the
   * files `<path>.0` to `<path>.<slots - 1>`).
   * @param options The number of slots, the sleep function and logger.
   * @throws {TypeError} If the path or an option is of the wrong type, or
   * `slots` is missing.
   * @throws {RangeError} If `slots` is not a whole number from 1.
   */
  constructor(path: string | URL, options: SemaphoreOptions) {
    const [lockPath, slots, backendOf] = checkSemaphore(path, options, [
      ...LOCK_KEYS,
      "slots",
    ]);
    [this.path, this.slots] = [lockPath, slots];
    this.#holds = new Holds(backendOf(), lockPath, "semaphore");
  }

  /**
   * Whether this object holds a slot.
   *
   * @returns True between a successful acquire and the release.
   */
  get acquired(): boolean {
    return this.#holds.writer !== undefined;
  }

  /**
   * Which slot this object holds.
   *
   * @returns The slot, from 0 to `slots - 1`; undefined when none is held.
   */
  get slot(): number | undefined {
    return this.#holds.writer?.slot;
  }

  /**
   * Acquires a slot: waits for the gate, then for a free slot, as the
   * options say (see the module documentation).
   *
   * @param options When and how long to wait.
   * @returns True once a slot is held; false when a non-blocking try failed
   * or the timeout passed.
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} If a time is negative, NaN or infinite.
   * @throws The `signal`'s reason when it aborts the wait; an `Error` if the
   * object was disposed; a `Deno.errors` error naming the path when a file
   * cannot be opened. Nothing is left held or open after a throw.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    return (await this.#holds.acquire("exclusive", options)) !== undefined;
  }

  /**
   * Releases the slot held.
   *
   * @throws {Error} If this object holds no slot.
   */
  release(): void {
    this.#holds.release("exclusive", "the slot");
  }

  /**
   * Whether a slot is held and its path still names the file that was
   * locked.
   *
   * @returns True while the slot held is still the lock on its path.
   */
  isValid(): boolean {
    return this.#holds.isValid();
  }

  /** Releases the slot if held and stops the object's pending acquires. */
  [Symbol.dispose](): void {
    this.#holds.dispose();
  }
}

/**
 * Holds a slot of an {@linkcode InterProcessSemaphore} on `path` around
 * every call: at most `slots` calls run at once across processes. Calls
 * reject with `LockTimeoutError` when no slot can be had in time.
 *
 * @param path The gate file: a path or a `file:` URL.
 * @param options The number of slots, the lock's and the acquire options.
 * @returns A wrapper that is also a TC39 method decorator.
 * @throws {TypeError} If the path or an option is of the wrong type.
 * @throws {RangeError} If `slots` or a time option is out of range.
 *
 * @example Usage
 * ```ts
 * import { semaphoreLocked } from "@locks/process-lock/semaphore";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const scrape = semaphoreLocked(`${dir}/api.lock`, { slots: 3 })(
 *   async (url: string) => url.length,
 * );
 * assert.deepEqual(await Promise.all(["a", "bb"].map(scrape)), [1, 2]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function semaphoreLocked(
  path: string | URL,
  options: SemaphoreLockedOptions,
): LockedDecorator {
  const [lockPath, , backendOf, rest] = checkSemaphore(path, options, [
    ...LOCK_KEYS,
    ...ACQUIRE_KEYS,
    "slots",
  ]);
  // Each call holds a slot as an object of its own would.
  return lockedDecorator("exclusive", backendOf, lockPath, rest);
}
