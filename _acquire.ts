// Copyright 2026 the @locks/process-lock authors. MIT license.
// The one acquisition loop behind every lock kind: the non-blocking fast
// path, fasteners' backoff, timeouts, cancellation, wake-up on release and
// the in-process hand-off queue.

import type {
  ResolvedAcquireOptions,
  ResolvedLockOptions,
} from "./_options.ts";
import { watchLockFile } from "./_watch.ts";

/** One contender for a lock: what a single acquire call tries to take. */
export interface Contender {
  /** Whether it asks for the lock exclusively. */
  readonly exclusive: boolean;
  /**
   * One non-blocking try. True when the lock is now held (and recorded by
   * the lock object). May throw on a file-system error.
   */
  tryAcquire(): boolean;
  /** Frees whatever the tries left open; called when the call gives up. */
  abandon(): void;
}

interface Waiter {
  readonly contender: Contender;
  /** Set by a hand-off that acquired the lock for this waiter. */
  granted: boolean;
  /** Set when the waiter's call has given up; hand-offs skip it. */
  gone: boolean;
  /** Set by a wake-up that came while the waiter was not sleeping. */
  woken: boolean;
  /** Ends the current sleep early. */
  wake: () => void;
}

/** Waiting calls per lock key, in arrival order. */
const queues = new Map<string, Waiter[]>();

/** The smallest pause between two tries, so `delay: 0` never spins. */
const MIN_SLEEP = 1;

function defaultSleep(
  ms: number,
  options?: { signal?: AbortSignal },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const signal = options?.signal;
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(id);
      reject(signal!.reason);
    };
    const id = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Offers the lock on `key`, just released by this process, to its waiting
 * calls in arrival order: each one tries at once, synchronously. Stops at
 * the first that fails or after one takes it exclusively.
 */
export function handOff(key: string): void {
  const queue = queues.get(key);
  if (queue === undefined) return;
  for (const waiter of queue) {
    if (waiter.granted || waiter.gone) continue;
    let ok: boolean;
    try {
      ok = waiter.contender.tryAcquire();
    } catch {
      // Let the waiter meet the error in its own call, not in release().
      waiter.wake();
      return;
    }
    if (!ok) return;
    waiter.granted = true;
    waiter.wake();
    if (waiter.contender.exclusive) return;
  }
}

function enqueue(key: string, waiter: Waiter): void {
  const queue = queues.get(key);
  if (queue === undefined) queues.set(key, [waiter]);
  else queue.push(waiter);
}

function dequeue(key: string, waiter: Waiter): void {
  const queue = queues.get(key);
  if (queue === undefined) return;
  const index = queue.indexOf(waiter);
  if (index !== -1) queue.splice(index, 1);
  if (queue.length === 0) queues.delete(key);
}

/**
 * Acquires for `contender`: fasteners' semantics, plus wake-up on release
 * and in-process hand-off.
 *
 * @param key The lock file's absolute path.
 * @param contender What to try.
 * @param options The checked acquire options.
 * @param lockOptions The lock's sleep and logger.
 * @param objectSignal Aborted when the lock object is disposed.
 * @returns True once held; false when non-blocking or timed out.
 * @throws `signal.reason` when aborted; file-system errors from the tries.
 */
export async function acquireWith(
  key: string,
  contender: Contender,
  options: ResolvedAcquireOptions,
  lockOptions: ResolvedLockOptions,
  objectSignal: AbortSignal,
): Promise<boolean> {
  const { blocking, timeout } = options;
  const signal = options.signal === undefined
    ? objectSignal
    : AbortSignal.any([options.signal, objectSignal]);
  signal.throwIfAborted();
  const logger = lockOptions.logger;
  const mode = contender.exclusive ? "exclusive" : "shared";
  let attempts = 0;
  const attempt = (): boolean => {
    attempts++;
    const ok = contender.tryAcquire();
    logger?.debug(
      `Attempt ${attempts} at the ${mode} lock on "${key}": ${
        ok ? "acquired" : "busy"
      }`,
    );
    return ok;
  };

  // Fast path: one synchronous try, unless calls of this process are
  // already queued for the file: they go first, and this call waits its turn.
  const behind = blocking && queues.has(key);
  try {
    if (!behind && attempt()) return true;
    if (!blocking || timeout === 0) {
      contender.abandon();
      return false;
    }
  } catch (error) {
    contender.abandon();
    throw error;
  }

  const start = performance.now();
  const deadline = timeout === undefined ? Infinity : start + timeout;
  const waiter: Waiter = {
    contender,
    granted: false,
    gone: false,
    woken: false,
    wake: () => {
      waiter.woken = true;
    },
  };
  const onAbort = () => {
    waiter.gone = true;
    waiter.wake();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  enqueue(key, waiter);
  // Listen first, then try again, then wait: no release can slip between.
  const unwatch = watchLockFile(key, () => waiter.wake(), logger);
  let acquired = false;
  try {
    if (!behind) acquired = attempt();
    let sleepMs = options.delay;
    while (!acquired) {
      signal.throwIfAborted();
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        logger?.debug(
          `Gave up on the ${mode} lock on "${key}" after ${timeout} ms and ${attempts} attempts`,
        );
        break;
      }
      const ms = Math.min(Math.max(sleepMs, MIN_SLEEP), remaining);
      await sleepUnlessWoken(waiter, ms, lockOptions, logger, key);
      if (waiter.granted) {
        acquired = true;
        logger?.debug(`Handed the ${mode} lock on "${key}" by this process`);
        break;
      }
      signal.throwIfAborted();
      acquired = attempt();
      sleepMs = Math.min(sleepMs + options.delay, options.maxDelay);
    }
    return acquired;
  } finally {
    waiter.gone = true;
    signal.removeEventListener("abort", onAbort);
    dequeue(key, waiter);
    unwatch();
    if (!acquired) contender.abandon();
  }
}

/** Sleeps `ms`, or less when the waiter is woken or its call aborted. */
function sleepUnlessWoken(
  waiter: Waiter,
  ms: number,
  lockOptions: ResolvedLockOptions,
  logger: ResolvedLockOptions["logger"],
  key: string,
): Promise<void> {
  if (waiter.woken) {
    waiter.woken = false;
    return Promise.resolve();
  }
  logger?.debug(`Waiting up to ${ms.toFixed(1)} ms for "${key}"`);
  return new Promise<void>((resolve, reject) => {
    const timer = new AbortController();
    let settled = false;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      waiter.woken = false;
      waiter.wake = () => {
        waiter.woken = true;
      };
      timer.abort();
      if (error === undefined) resolve();
      else reject(error);
    };
    waiter.wake = () => finish();
    const sleep = lockOptions.sleep ?? defaultSleep;
    let sleeping: Promise<void>;
    try {
      sleeping = Promise.resolve(sleep(ms, { signal: timer.signal }));
    } catch (error) {
      return finish(error);
    }
    sleeping.then(
      () => finish(),
      (error) => {
        // Our own abort of the timer is not an error.
        if (!timer.signal.aborted) finish(error);
      },
    );
  });
}
