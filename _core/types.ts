// Copyright 2026 the @locks/process-lock authors. MIT license.
// The option types and the timeout error that every lock kind shares
// (re-exported by lock.ts and postgres/mod.ts).

/**
 * What hears a lock's steps at debug level: `console` works.
 *
 * @example Collecting the lines
 * ```ts
 * import type { Logger } from "@locks/process-lock";
 *
 * const lines: string[] = [];
 * const logger: Logger = { debug: (...data) => lines.push(data.join(" ")) };
 * logger.debug("Attempt", 1);
 * ```
 */
export interface Logger {
  /** Hears one line, as `console.debug` does. */
  debug(...data: unknown[]): void;
}

/**
 * A sleep function: waits `ms` milliseconds, or less when `signal` aborts
 * (it should stop its timer then). `delay` from `@std/async` has this shape.
 *
 * @example A sleep of your own
 * ```ts
 * import type { Sleep } from "@locks/process-lock";
 *
 * const sleep: Sleep = (ms, { signal } = {}) =>
 *   new Promise((resolve) => {
 *     const id = setTimeout(resolve, ms);
 *     signal?.addEventListener("abort", () => {
 *       clearTimeout(id);
 *       resolve();
 *     });
 *   });
 * await sleep(1);
 * ```
 */
export type Sleep = (
  ms: number,
  options?: { signal?: AbortSignal },
) => Promise<void>;

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
   * Sleeps between the tries of a waiting call (a release wakes it early).
   * It receives
   * the time in milliseconds and a signal that is aborted when the wait
   * ends early (a release woke the waiter, or the call was aborted); it
   * should stop its timer then. `delay` from `@std/async` has this shape
   * and can be passed as is.
   *
   * @default {a built-in timer}
   */
  sleep?: Sleep;
  /**
   * Hears each attempt and each wait at debug level. `console` works.
   *
   * @default {undefined}
   */
  logger?: Logger;
  /**
   * Lets any existing file that this process can read be the lock, a
   * directory included, as `flock(1)` does: such a file is opened for
   * reading only and never written (no owner record), and a missing lock
   * file is created but not its directory. Without it, a lock file must be
   * writable, and is created when missing, with its directories.
   *
   * @default {false}
   */
  anyFile?: boolean;
}

/**
 * Options of one acquire call, with fasteners' defaults in milliseconds.
 *
 * How a blocking call waits for a lock held by another process: it watches
 * the lock file (a release wakes it) and tries again after `delay`, `delay`
 * more after each pause, up to `maxDelay`: fasteners' backoff, as the
 * safety net for releases that make no event. It never waits in the kernel
 * (`FsFile.lock()`), which nothing can interrupt: a wait there would keep
 * the process alive after the call was given up.
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
   * `false`. Omitted: wait without a limit. (PostgreSQL waits at most
   * 2^31-1 ms, 24.8 days, its `lock_timeout` limit.)
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
  /** The lock file's path, or the PostgreSQL lock's name. */
  readonly path: string;
  /** The timeout that passed, in milliseconds; 0 for a non-blocking try. */
  readonly timeout: number;

  /**
   * Makes the error.
   *
   * @param path The lock file's path, or the PostgreSQL lock's name.
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
