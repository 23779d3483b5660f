// Copyright 2026 the @locks/process-lock authors. MIT license.
// The one acquisition loop behind every lock kind: the non-blocking fast
// path, fasteners' backoff, timeouts, cancellation, wake-up on release and
// the in-process hand-off queue.

import type {
  ResolvedAcquireOptions,
  ResolvedLockOptions,
} from "./_options.ts";
import { STREAK_MS } from "./_streak.ts";
import { watchedFile, watchLockFile } from "./_watch.ts";

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
  /** When the call began to wait (epoch ms), once it waits. */
  waitStart: number | undefined;
  /**
   * Before the first try of a blocking call: true when this process should
   * give other processes a turn at the lock before it tries.
   */
  yieldTurn(): boolean;
  /** Puts this call in the lock file's waiter queue, where it has one. */
  announce(): void;
  /**
   * How many waiters of other processes go before this call (0: it goes
   * first at the next release).
   */
  queuePosition(): number;
  /**
   * Whether the holder is known to raise an event on the watched file
   * (`"device:inode"`) when it releases the lock or dies.
   */
  holderWakes(watched: string | undefined): boolean;
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

/**
 * Takes `waiter` out of the queue. When it leaves without the lock, the
 * call that is now first in the queue is woken to try.
 */
function dequeue(key: string, waiter: Waiter, acquired: boolean): void {
  const queue = queues.get(key);
  if (queue === undefined) return;
  const index = queue.indexOf(waiter);
  if (index !== -1) queue.splice(index, 1);
  if (queue.length === 0) queues.delete(key);
  else if (!acquired) headOf(queue)?.wake("change");
}

/** The first waiter of a queue that still waits. */
function headOf(queue: Waiter[]): Waiter | undefined {
  return queue.find((waiter) => !waiter.gone && !waiter.granted);
}

/**
 * Whether `waiter` is the first call of this process that waits for `key`:
 * only that one tries (the others get the lock handed on in order).
 */
function isHead(key: string, waiter: Waiter): boolean {
  const queue = queues.get(key);
  return queue === undefined || headOf(queue) === waiter;
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
  // already queued for the file (they go first, and this call waits its
  // turn), or this process has kept the lock for a while and another one
  // waits for it (this call then gives it up and waits a moment).
  const behind = blocking && queues.has(key);
  let stepBack = false;
  try {
    stepBack = blocking && !behind && contender.yieldTurn();
    if (stepBack) {
      logger?.debug(`Giving the lock on "${key}" a turn in another process`);
    }
    if (!behind && !stepBack && attempt(false)) return true;
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
  contender.waitStart = Number((performance.timeOrigin + start).toFixed(3));
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
  // Writes (owner records, waiters announcing themselves) do not wake
  // anyone; closes, which every release makes, and a file removed or
  // replaced do.
  const listener = (kind: Deno.FsEvent["kind"]) => {
    if (kind !== "modify") {
      waiter.wake(kind === "access" ? "release" : "change");
    }
  };
  // A call listens from the moment it is first in the queue until it
  // leaves: every delivered event costs a watching process a fraction of a
  // millisecond of CPU, and a busy lock makes several per turn. The calls
  // behind it sleep about as long as the turns before theirs take, and look
  // again.
  let unwatch: (() => void) | undefined;
  let cannotWatch = false;
  const listen = () => {
    if (unwatch === undefined && !cannotWatch) {
      unwatch = watchLockFile(key, listener, logger);
      cannotWatch = unwatch === undefined;
    }
  };
  let acquired = false;
  try {
    // fasteners' backoff: delay, then delay more per timer, up to maxDelay.
    let sleepMs = options.delay;
    const grow = () => {
      sleepMs = Math.min(sleepMs + options.delay, options.maxDelay);
    };
    let position = 0;
    if (!behind && !stepBack) {
      // Take a place in the queue; the first waiter then listens, and tries
      // again: no release can slip between that try and the wait.
      contender.announce();
      position = contender.queuePosition();
      if (position === 0) {
        listen();
        acquired = attempt(false);
      }
    } else if (stepBack) {
      position = contender.queuePosition();
    }
    while (!acquired) {
      signal.throwIfAborted();
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        logger?.debug(
          `Gave up on the ${mode} lock on "${key}" after ${timeout} ms and ${attempts} attempts`,
        );
        break;
      }
      const head = isHead(key, waiter);
      // Once listening, a call keeps listening until it leaves: opening a
      // watcher waits for the watcher's thread, which a busy machine may
      // not run for a while.
      if (head && position === 0) listen();
      let pause = Math.max(sleepMs, MIN_SLEEP);
      if (stepBack) pause = STEP_BACK_MS;
      else if (head && position > 0) {
        pause = Math.min(pause, position * STREAK_MS);
      } else if (
        unwatch !== undefined && contender.holderWakes(watchedFile(key))
      ) {
        // The holder is this library on this machine: its release, or its
        // death, wakes this call at once. The timer is then only a safety
        // net, and wakes seldom (each wake-up costs a Deno process a few
        // tenths of a millisecond of CPU).
        pause = Math.max(pause, options.maxDelay * SAFETY_NET_FACTOR);
      }
      const reason = await sleepUnlessWoken(
        waiter,
        Math.min(pause, remaining),
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
      if (!isHead(key, waiter)) {
        // An earlier call of this process tries for both; this one waits
        // for the hand-off, or to become first.
        if (reason === "timer") grow();
        continue;
      }
      // Keep this call's place in the waiter queue (a winner may have taken
      // it out); a call that has just become first listens, then tries.
      contender.announce();
      position = contender.queuePosition();
      if (position === 0) listen();
      else if (!stepBack && sleepMs < options.maxDelay) {
        // Not this call's turn: it looks again later. (Once its pauses have
        // grown to maxDelay it tries anyway: a claim in front of it may be
        // left by a process that died.)
        if (reason === "timer") grow();
        continue;
      }
      const steppedBack = stepBack;
      stepBack = false;
      // A release needs only a try; after a timer or a change of the file,
      // check that the file open is still the one at the path.
      acquired = attempt(reason !== "release");
      if (!acquired) {
        contender.announce();
        position = contender.queuePosition();
      }
      if (reason === "timer" && !steppedBack) grow();
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
    dequeue(key, waiter, acquired);
    unwatch?.();
    if (!acquired) contender.abandon();
  }
}

/**
 * While the holder is known to wake its waiters, they poll this many times
 * less often than `maxDelay`.
 */
const SAFETY_NET_FACTOR = 10;

/**
 * How long (in ms) a call that gave its turn away lets the waiters of other
 * processes take the lock before it tries again itself.
 */
const STEP_BACK_MS = 2;

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
