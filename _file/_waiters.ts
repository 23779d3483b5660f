// Copyright 2026 the @locks/process-lock authors. MIT license.
// What this process knows of each lock file it uses (its waiting calls in
// arrival order, its holds, its streak and step-aside), and the waiting
// call that sleeps until a timer, a release, a change or an abort wakes it.

import { type LockMode, MAX_TIMER_MS } from "../_core/_options.ts";
import type { Sleep } from "../_core/types.ts";

/** Why a sleep ended. */
export type WakeReason = "timer" | "release" | "change" | "abort";

/** The reason given to a user's sleep that is stopped early. */
const WOKEN = new Error("Woken before the end of the sleep");

/** One waiting acquire call: it sleeps, and others wake it. */
export class Waiter {
  readonly mode: LockMode;
  /** A wake-up that came while the call was not sleeping. */
  #pending: WakeReason | undefined;
  /** Ends the current sleep, if any. */
  #finish: ((reason: WakeReason, error?: unknown) => void) | undefined;

  constructor(mode: LockMode) {
    this.mode = mode;
  }

  /** Ends the current sleep now, or the next one at once. */
  wake(reason: WakeReason): void {
    if (this.#finish !== undefined) this.#finish(reason);
    else this.#pending ??= reason;
  }

  /**
   * Sleeps `ms` (Infinity: no timer) through the user's sleep function, if
   * given, or a timer; less when woken.
   *
   * @returns Why the sleep ended.
   * @throws What the user's sleep function threw.
   */
  sleep(ms: number, userSleep?: Sleep): Promise<WakeReason> {
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#pending = undefined;
      return Promise.resolve(pending);
    }
    return new Promise<WakeReason>((resolve, reject) => {
      let id: ReturnType<typeof setTimeout> | undefined;
      // A user's sleep is told to stop through this signal.
      const stop = userSleep === undefined ? undefined : new AbortController();
      this.#finish = (reason, error) => {
        this.#finish = undefined;
        clearTimeout(id);
        stop?.abort(WOKEN);
        if (error === undefined) resolve(reason);
        else reject(error);
      };
      // A longer wait is cut into timers of the longest length.
      const timerMs = Math.min(ms, MAX_TIMER_MS);
      if (userSleep === undefined || stop === undefined) {
        if (ms !== Infinity) id = setTimeout(() => this.wake("timer"), timerMs);
        return;
      }
      this.#sleepWith(userSleep, timerMs, stop.signal);
    });
  }

  /** Runs the user's sleep; its end (or failure) ends the current sleep. */
  #sleepWith(userSleep: Sleep, ms: number, signal: AbortSignal): void {
    const finish = this.#finish!;
    let sleeping: Promise<void>;
    try {
      sleeping = Promise.resolve(userSleep(ms, { signal }));
    } catch (error) {
      return finish("timer", error);
    }
    sleeping.then(
      () => {
        if (this.#finish === finish) finish("timer");
      },
      (error) => {
        // Our own stop of the sleep is not an error.
        if (!signal.aborted && this.#finish === finish) finish("timer", error);
      },
    );
  }
}

/** What this process knows of one lock file (by absolute path). */
export class PathState {
  /** Blocking calls that wait, in arrival order. */
  queue: Waiter[] = [];
  /** Locks on the file held by this process. */
  holders = 0;
  /** When this process's streak of holding began (performance.now()). */
  streakStart = 0;
  /** When this process last released the lock. */
  lastRelease = -Infinity;
  /** Until when this process leaves the lock to others. */
  asideUntil = 0;

  /** Whether a call that may wait tries before queueing: not while calls
   * of this process wait already (they go first) or it steps aside. */
  mayTryAtOnce(): boolean {
    return this.queue.length === 0 && performance.now() >= this.asideUntil;
  }

  /**
   * How long `waiter` must leave the lock to others before its turn: to an
   * earlier call of this process (which wakes it when it leaves), or for a
   * step-aside of this process.
   *
   * @returns The pause in ms, or 0 when it is the waiter's turn.
   */
  pauseBeforeTurn(waiter: Waiter, remaining: number): number {
    if (this.queue[0] !== waiter) return remaining;
    return Math.max(
      0,
      Math.min(this.asideUntil - performance.now(), remaining),
    );
  }
}

const states = new Map<string, PathState>();
/** How long (ms) an idle path's state is kept (its streak and step-aside
 * last a few ms). */
const IDLE_STATE_MS = 1_000;
/** The number of states from which a new one sweeps the idle ones (as
 * does the first new one a while after the last sweep). */
let sweepAt = 64;
let sweptAt = 0;

/** The state of the lock file at absolute path `path`. */
export function stateOf(path: string): PathState {
  let state = states.get(path);
  if (state === undefined) {
    const now = performance.now();
    if (states.size >= sweepAt || now - sweptAt > IDLE_STATE_MS) sweepIdle(now);
    state = new PathState();
    states.set(path, state);
  }
  return state;
}

/** Drops the states of paths with no holder and no waiter in this process
 * for a while: memory stays flat over any number of paths. */
function sweepIdle(now: number): void {
  sweptAt = now;
  for (const [path, state] of states) {
    const idle = state.holders === 0 && state.queue.length === 0;
    if (idle && now - state.lastRelease > IDLE_STATE_MS) states.delete(path);
  }
  sweepAt = Math.max(64, states.size * 2);
}
