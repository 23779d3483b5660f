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
   *
   * @param recheck True when the file may have been replaced since the last
   * try: a failed try then checks the path and reopens.
   */
  tryAcquire(recheck: boolean): boolean;
  /** Frees whatever the tries left open; called when the call gives up. */
  abandon(): void;
}

/** Why a sleep between tries ended. */
type WakeReason = "timer" | "release" | "change" | "handoff" | "abort";

interface Waiter {
  readonly contender: Contender;
  /** Set by a hand-off that acquired the lock for this waiter. */
  granted: boolean;
  /** Set when the waiter's call has given up; hand-offs skip it. */
  gone: boolean;
  /** A wake-up that came while the waiter was not sleeping. */
  pending: WakeReason | undefined;
  /** Ends the current sleep early. */
  wake: (reason: WakeReason) => void;
}

/** Waiting calls per lock key, in arrival order. */
const queues = new Map<string, Waiter[]>();

/** The reason given to a user's sleep that is stopped early. */
const WOKEN = new Error("Woken before the end of the sleep");

/** The smallest pause between two tries, so `delay: 0` never spins. */
const MIN_SLEEP = 1;

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
      ok = waiter.contender.tryAcquire(false);
    } catch {
      // Let the waiter meet the error in its own call, not in release().
      waiter.wake("change");
      return;
    }
    if (!ok) return;
    waiter.granted = true;
    waiter.wake("handoff");
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
  const attempt = (recheck: boolean): boolean => {
    attempts++;
    const ok = contender.tryAcquire(recheck);
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
    if (!behind && attempt(false)) return true;
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
    pending: undefined,
    wake: (reason) => {
      waiter.pending ??= reason;
    },
  };
  const onAbort = () => {
    waiter.gone = true;
    waiter.wake("abort");
  };
  signal.addEventListener("abort", onAbort, { once: true });
  enqueue(key, waiter);
  // Listen first, then try again, then wait: no release can slip between.
  // Writes (the owner record) do not wake anyone; closes, which every
  // release makes, and a file removed or replaced do.
  const listener = (kind: Deno.FsEvent["kind"]) => {
    if (kind !== "modify") {
      waiter.wake(kind === "access" ? "release" : "change");
    }
  };
  let unwatch = watchLockFile(key, listener, logger);
  let acquired = false;
  try {
    let sleepMs = options.delay;
    let settleMs = SETTLE_MS;
    if (!behind) acquired = attempt(false);
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
      const reason = await sleepUnlessWoken(
        waiter,
        ms,
        lockOptions,
        logger,
        key,
      );
      if (waiter.granted) {
        acquired = true;
        logger?.debug(`Handed the ${mode} lock on "${key}" by this process`);
        break;
      }
      signal.throwIfAborted();
      // A release needs only a try; after a timer or a change of the file,
      // check that the file open is still the one at the path.
      acquired = attempt(reason !== "release");
      if (reason === "timer") {
        sleepMs = Math.min(sleepMs + options.delay, options.maxDelay);
        settleMs = SETTLE_MS;
      } else if (
        !acquired && reason === "release" &&
        performance.now() - start < PATIENT_MS
      ) {
        // Someone else won that release. Every delivered event costs a
        // watching process a fraction of a millisecond of CPU, and a busy
        // lock makes one per release for every waiting process: stop
        // listening for a moment, then listen again and try.
        unwatch();
        unwatch = noop;
        if (await settle(waiter, settleMs, deadline, lockOptions, key)) {
          acquired = true;
        } else {
          unwatch = watchLockFile(key, listener, logger);
          signal.throwIfAborted();
          acquired = attempt(true);
        }
        settleMs = Math.min(settleMs * 2, MAX_SETTLE_MS);
      }
    }
    return acquired;
  } catch (error) {
    // A hand-off may have granted the lock just before the failure: then
    // the call has the lock, and says so.
    if (waiter.granted) {
      acquired = true;
      return true;
    }
    throw error;
  } finally {
    waiter.gone = true;
    signal.removeEventListener("abort", onAbort);
    dequeue(key, waiter);
    unwatch();
    if (!acquired) contender.abandon();
  }
}

/**
 * A waiter that has waited this long keeps listening after a lost release:
 * long waiters get every chance, new ones step back.
 */
const PATIENT_MS = 50;

/** How long a waiter stops listening after losing a release, at first... */
const SETTLE_MS = 1;
/** ...and at most, after losing several in a row. */
const MAX_SETTLE_MS = 8;

/**
 * Sleeps `settleMs` (or until the deadline); only a hand-off or an abort
 * ends it early.
 *
 * @returns True when a hand-off granted the lock meanwhile.
 */
async function settle(
  waiter: Waiter,
  settleMs: number,
  deadline: number,
  lockOptions: ResolvedLockOptions,
  key: string,
): Promise<boolean> {
  const ms = Math.min(settleMs, deadline - performance.now());
  if (ms > 0 && !waiter.granted) {
    await sleepUnlessWoken(waiter, ms, lockOptions, lockOptions.logger, key);
  }
  return waiter.granted;
}

function noop(): void {}

/**
 * Sleeps `ms`, or less when the waiter is woken or its call aborted.
 *
 * @returns Why the sleep ended.
 */
function sleepUnlessWoken(
  waiter: Waiter,
  ms: number,
  lockOptions: ResolvedLockOptions,
  logger: ResolvedLockOptions["logger"],
  key: string,
): Promise<WakeReason> {
  const pending = waiter.pending;
  if (pending !== undefined) {
    waiter.pending = undefined;
    return Promise.resolve(pending);
  }
  logger?.debug(`Waiting up to ${ms.toFixed(1)} ms for "${key}"`);
  const sleep = lockOptions.sleep;
  return new Promise<WakeReason>((resolve, reject) => {
    let settled = false;
    // The default: a plain timer (waking early costs a clearTimeout only).
    let id: ReturnType<typeof setTimeout> | undefined;
    // A user's sleep: told to stop through this signal.
    const timer = sleep === undefined ? undefined : new AbortController();
    const finish = (reason: WakeReason, error?: unknown) => {
      if (settled) return;
      settled = true;
      waiter.pending = undefined;
      waiter.wake = (next) => {
        waiter.pending ??= next;
      };
      if (id !== undefined) clearTimeout(id);
      timer?.abort(WOKEN);
      if (error === undefined) resolve(reason);
      else reject(error);
    };
    waiter.wake = (reason) => finish(reason);
    if (sleep === undefined || timer === undefined) {
      id = setTimeout(() => finish("timer"), ms);
      return;
    }
    const signal = timer.signal;
    let sleeping: Promise<void>;
    try {
      sleeping = Promise.resolve(sleep(ms, { signal }));
    } catch (error) {
      return finish("timer", error);
    }
    sleeping.then(
      () => finish("timer"),
      (error) => {
        // Our own abort of the timer is not an error.
        if (!signal.aborted) finish("timer", error);
      },
    );
  });
}
