// Copyright 2026 the @locks/process-lock authors. MIT license.
// The one acquisition loop behind every lock kind, and the release.
//
// - A call first tries once, without waiting.
// - Blocking calls of one process wait in arrival order; only the first one
//   (the head) tries. A release in this process wakes it, and it tries at
//   once; when it leaves, the next one becomes the head.
// - The head waits for the lock held by another process in the kernel when
//   nothing can cancel the call (no timeout, no signal); otherwise it watches
//   the file and backs off as fasteners does (delay, +delay per timer, up to
//   maxDelay).
// - While it waits on another process, the head keeps a waiting mark in the
//   lock file. A process that has kept the lock for a streak of STREAK_MS
//   reads the mark when it releases, and if another process waits, it steps
//   aside for STEP_ASIDE_MS instead of taking the lock back at once.

import type {
  ResolvedAcquireOptions,
  ResolvedLockOptions,
} from "./_options.ts";
import {
  closeLockFile,
  statIfSameFile,
  statIfStill,
  tryLockPath,
} from "./_file.ts";
import {
  BLOCK_SIZE,
  clearMark,
  clearOwner,
  type Mark,
  readMark,
  writeMark,
  writeOwner,
} from "./_record.ts";
import { watchLockFile } from "./_watch.ts";

/** How long (ms) a process keeps a lock by taking it back before it looks for waiters. */
const STREAK_MS = 5;
/** How long (ms) a process that steps aside leaves the lock to others. */
const STEP_ASIDE_MS = 2;
/** How often (ms) a waiting process renews its waiting mark. */
const MARK_REFRESH_MS = 2_000;
/** How long (ms) a waiting mark counts after it was written. */
const MARK_TTL_MS = 5_000;
/**
 * How often (ms) a waiting call checks, at a failed try, that its open file
 * is still the one at the path (and at once after a change event).
 */
const RECHECK_MS = 1_000;
/** The shortest pause between two tries, so `delay: 0` never spins. */
const MIN_SLEEP = 1;

/** Why a sleep ended. */
type WakeReason = "timer" | "release" | "change" | "abort";

interface Waiter {
  readonly exclusive: boolean;
  /** A wake-up that came while the waiter was not sleeping. */
  pending: WakeReason | undefined;
  /** Ends the current sleep early. */
  wake: (reason: WakeReason) => void;
}

/** What this process knows of one lock file (by absolute path). */
interface KeyState {
  /** Blocking calls that wait, in arrival order. */
  queue: Waiter[];
  /** Locks on the file held by this process. */
  holders: number;
  /** When this process's streak of holding began (performance.now()). */
  streakStart: number;
  /** When this process last released the lock. */
  lastRelease: number;
  /** Until when this process leaves the lock to others. */
  asideUntil: number;
}

const states = new Map<string, KeyState>();

function stateOf(key: string): KeyState {
  let state = states.get(key);
  if (state === undefined) {
    state = {
      queue: [],
      holders: 0,
      streakStart: 0,
      lastRelease: -Infinity,
      asideUntil: 0,
    };
    states.set(key, state);
  }
  return state;
}

/** What one acquire call asks for. */
export interface AcquireRequest {
  /** The lock file's absolute path. */
  key: string;
  /** The lock file's path as given. */
  path: string;
  exclusive: boolean;
  options: ResolvedAcquireOptions;
  lockOptions: ResolvedLockOptions;
  /** Aborted when the lock object is disposed. */
  objectSignal: AbortSignal;
  /** Told synchronously when the lock is held, through which file. */
  onLocked: (file: Deno.FsFile) => void;
}

/**
 * Acquires a lock: fasteners' semantics, plus in-process order, the kernel
 * wait and wake-up on release.
 *
 * @returns True once held; false when non-blocking or timed out.
 * @throws `signal.reason` when aborted; file-system errors naming the path.
 * Nothing is left held or open after a throw.
 */
export async function acquireFile(request: AcquireRequest): Promise<boolean> {
  const { key, path, exclusive, options, lockOptions } = request;
  const { blocking, timeout } = options;
  const signal = options.signal === undefined
    ? request.objectSignal
    : AbortSignal.any([options.signal, request.objectSignal]);
  signal.throwIfAborted();
  const logger = lockOptions.logger;
  const kind = exclusive ? "exclusive" : "shared";
  const state = stateOf(key);

  /** The file this call keeps open while it waits. */
  let file: Deno.FsFile | undefined;
  /** This call's waiting mark, once it waits on another process. */
  let mark: Mark | undefined;
  /** When the kept file was last seen at the path; set on a change event. */
  let checkedAt = 0;
  let changed = false;
  /** Stops the watcher that wakes this call, once it listens. */
  let unwatch: (() => void) | undefined;
  let attempts = 0;
  const attempt = (): boolean => {
    attempts++;
    let result;
    try {
      const now = performance.now();
      const recheck = changed || now - checkedAt >= RECHECK_MS;
      result = tryLockPath(path, exclusive, file, recheck, lockOptions.anyFile);
      if (recheck || result.opened) checkedAt = now;
      changed = false;
    } catch (error) {
      file = undefined;
      throw error;
    }
    if (result.opened && unwatch !== undefined) {
      // A new file at the path: the watcher follows the old one.
      unwatch();
      unwatch = undefined;
    }
    file = result.file;
    logger?.debug(
      `Attempt ${attempts} at the ${kind} lock on "${key}": ${
        result.locked ? "acquired" : "busy"
      }`,
    );
    if (!result.locked) return false;
    won(state, file, exclusive, result.info!.size, result.opened, mark);
    mark = undefined;
    const held = file;
    file = undefined;
    request.onLocked(held);
    return true;
  };

  // One try at once: always for a non-blocking call, else unless calls of
  // this process wait already (they go first) or it steps aside.
  // Whether the loop's first turn may skip its try (one was just made).
  let tried = false;
  try {
    tried = !blocking || timeout === 0 ||
      (state.queue.length === 0 && performance.now() >= state.asideUntil);
    if (tried && attempt()) return true;
    if (!blocking || timeout === 0) {
      if (file !== undefined) closeLockFile(file);
      return false;
    }
  } catch (error) {
    if (file !== undefined) closeLockFile(file);
    throw error;
  }

  const start = performance.now();
  const deadline = timeout === undefined ? Infinity : start + timeout;
  // Nothing can cancel this call but disposing the lock object.
  const inKernel = options.timeout === undefined &&
    options.signal === undefined;
  const waiter: Waiter = {
    exclusive,
    pending: undefined,
    wake: (reason) => {
      waiter.pending ??= reason;
    },
  };
  const onAbort = () => waiter.wake("abort");
  signal.addEventListener("abort", onAbort, { once: true });
  state.queue.push(waiter);

  let cannotWatch = false;
  let refresher: ReturnType<typeof setInterval> | undefined;
  /** The kept file's own info, taken before a wait in the kernel. */
  let fileInfo: Deno.FileInfo | undefined;
  let acquired = false;
  try {
    let sleepMs = options.delay;
    while (true) {
      signal.throwIfAborted();
      const now = performance.now();
      const remaining = deadline - now;
      const head = state.queue[0] === waiter;
      if (remaining <= 0) {
        // As fasteners: one last try when the time is up.
        acquired = head && attempt();
        if (!acquired) {
          logger?.debug(
            `Gave up on the ${kind} lock on "${key}" after ${timeout} ms and ${attempts} attempts`,
          );
        }
        break;
      }
      if (!head || state.asideUntil > now) {
        // An earlier call of this process goes first (it wakes this one
        // when it leaves), or this process steps aside for a moment.
        await sleep(
          waiter,
          head ? Math.min(state.asideUntil - now, remaining) : remaining,
        );
        continue;
      }
      if (!tried && attempt()) {
        acquired = true;
        break;
      }
      tried = false;
      if (state.holders > 0) {
        // Held in this process: its release wakes this call.
        await sleep(waiter, remaining);
        continue;
      }
      // Held by another process: say that this one waits, and keep saying so.
      if (mark === undefined) {
        fileInfo = file!.statSync();
        mark = { at: Date.now(), pid: Deno.pid };
        // Only a file of the block's size can carry the mark.
        if (fileInfo.size === BLOCK_SIZE) writeMark(file!, mark);
        refresher ??= setInterval(() => {
          if (file === undefined || mark === undefined) return;
          mark = { at: Date.now(), pid: Deno.pid };
          writeMark(file, mark);
        }, MARK_REFRESH_MS);
        Deno.unrefTimer(refresher);
      }
      if (inKernel) {
        logger?.debug(`Waiting in the kernel for the ${kind} lock on "${key}"`);
        try {
          await waitInKernel(file!, exclusive, signal);
        } catch (error) {
          file = undefined; // waitInKernel closes it
          throw error;
        }
        const held = file!;
        // One stat (the open file's own fstat was taken before the wait):
        // the fewer calls after a wake-up, the sooner the lock is used.
        const info = statIfStill(fileInfo!, path);
        if (info !== undefined) {
          file = undefined;
          won(state, held, exclusive, info.size, false, mark);
          mark = undefined;
          request.onLocked(held);
          acquired = true;
          break;
        }
        // The file was replaced while this call waited: lock the new one.
        closeLockFile(held);
        file = undefined;
        mark = undefined;
        continue;
      }
      if (unwatch === undefined && !cannotWatch) {
        // Listen, then try again: no release can slip in between.
        unwatch = await watchLockFile(key, (event) => {
          if (event !== "modify") {
            waiter.wake(event === "access" ? "release" : "change");
          } else if (file !== undefined && !isHeldFileValid(file, path)) {
            // A file renamed over the path: the old one only says "modify".
            waiter.wake("change");
          }
        }, logger);
        cannotWatch = unwatch === undefined;
        continue;
      }
      const pause = Math.min(Math.max(sleepMs, MIN_SLEEP), remaining);
      logger?.debug(`Waiting up to ${pause.toFixed(1)} ms for "${key}"`);
      const reason = await sleep(waiter, pause, lockOptions.sleep);
      if (reason === "timer") {
        sleepMs = Math.min(sleepMs + options.delay, options.maxDelay);
      } else if (reason === "change") {
        // The file may have left the path: check it at the next try, and
        // watch anew (the watcher follows the old file).
        changed = true;
        unwatch?.();
        unwatch = undefined;
      }
    }
    return acquired;
  } finally {
    signal.removeEventListener("abort", onAbort);
    clearInterval(refresher);
    unwatch?.();
    const wasHead = state.queue[0] === waiter;
    state.queue.splice(state.queue.indexOf(waiter), 1);
    if (file !== undefined) {
      if (mark !== undefined) clearMark(file, mark);
      closeLockFile(file);
    }
    // The next call goes first now: it tries at once, unless this one took
    // the lock in a way that excludes it.
    const next = state.queue[0];
    if (wasHead && (!acquired || !exclusive && next?.exclusive === false)) {
      next?.wake("change");
    }
  }
}

/**
 * Waits in the kernel. When the call is aborted first (the lock object was
 * disposed), it rejects at once, and the lock is released as soon as the
 * kernel grants it.
 */
async function waitInKernel(
  file: Deno.FsFile,
  exclusive: boolean,
  signal: AbortSignal,
): Promise<void> {
  // Nothing can interrupt this wait.
  const locking = file.lock(exclusive);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<"aborted">((resolve) => {
    onAbort = () => resolve("aborted");
    signal.addEventListener("abort", onAbort, { once: true });
  });
  let outcome: "locked" | "aborted";
  try {
    outcome = await Promise.race([
      locking.then(() => "locked" as const),
      aborted,
    ]);
  } catch (error) {
    closeLockFile(file);
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort!);
  }
  if (outcome === "aborted") {
    const close = () => closeLockFile(file);
    locking.then(close, close);
    throw signal.reason;
  }
}

/**
 * Whether `file`, held as a lock on `path`, is still the file that `path`
 * names. Never throws.
 */
export function isHeldFileValid(file: Deno.FsFile, path: string): boolean {
  try {
    return statIfSameFile(file, path) !== undefined;
  } catch {
    return false;
  }
}

/** Held files whose owner record this process wrote. */
const recorded = new WeakSet<Deno.FsFile>();

/**
 * Books a lock just taken: the streak, and for an exclusive lock the owner
 * record (`atStart`: the file offset is 0). Empties this call's waiting
 * mark, if any.
 */
function won(
  state: KeyState,
  file: Deno.FsFile,
  exclusive: boolean,
  size: number,
  atStart: boolean,
  mark: Mark | undefined,
): void {
  const now = performance.now();
  // A streak goes on while this process takes the lock back within a
  // step-aside's time of its last release.
  if (state.holders === 0 && now - state.lastRelease > STEP_ASIDE_MS) {
    state.streakStart = now;
  }
  state.holders++;
  if (exclusive) {
    if (writeOwner(file, size, atStart && !mark, mark)) recorded.add(file);
  } else if (mark !== undefined) {
    clearMark(file, mark);
  }
}

/**
 * Releases a lock held through `file`: empties the owner record (exclusive
 * holders), unlocks and closes. Then, if this process has held the lock for
 * a streak and another process waits, steps aside; else wakes the first
 * waiting call of this process, which tries at once.
 */
export function releaseFile(
  key: string,
  file: Deno.FsFile,
  logger: ResolvedLockOptions["logger"],
): void {
  const state = stateOf(key);
  state.holders = Math.max(0, state.holders - 1);
  const now = performance.now();
  const streak = now - state.streakStart >= STREAK_MS;
  // Empty the owner record this process wrote (reading the mark on the
  // way); else read the mark only when the streak is long enough to care.
  const mark = recorded.delete(file)
    ? clearOwner(file)
    : streak
    ? readMark(file)
    : null;
  closeLockFile(file);
  state.lastRelease = now;
  if (streak && state.holders === 0) {
    if (
      mark !== null && mark.pid !== Deno.pid &&
      Date.now() - mark.at < MARK_TTL_MS
    ) {
      state.asideUntil = now + STEP_ASIDE_MS;
      logger?.debug(
        `Stepping aside from the lock on "${key}" for ${STEP_ASIDE_MS} ms: process ${mark.pid} waits`,
      );
      const head = state.queue[0];
      if (head !== undefined) {
        setTimeout(() => head.wake("timer"), STEP_ASIDE_MS);
      }
      return;
    }
    // Nobody waits: look again after another streak.
    state.streakStart = now;
  }
  // The first waiting call of this process tries at once.
  state.queue[0]?.wake("release");
}

/**
 * Sleeps `ms` (Infinity: no timer) through the user's sleep function, if
 * given, or a timer; less when the waiter is woken or its call aborted.
 *
 * @returns Why the sleep ended.
 */
function sleep(
  waiter: Waiter,
  ms: number,
  userSleep?: ResolvedLockOptions["sleep"],
): Promise<WakeReason> {
  const pending = waiter.pending;
  if (pending !== undefined) {
    waiter.pending = undefined;
    return Promise.resolve(pending);
  }
  return new Promise<WakeReason>((resolve, reject) => {
    let settled = false;
    let id: ReturnType<typeof setTimeout> | undefined;
    // A user's sleep is told to stop through this signal.
    const timer = userSleep === undefined ? undefined : new AbortController();
    const finish = (reason: WakeReason, error?: unknown) => {
      if (settled) return;
      settled = true;
      waiter.pending = undefined;
      waiter.wake = (next) => {
        waiter.pending ??= next;
      };
      clearTimeout(id);
      timer?.abort(WOKEN);
      if (error === undefined) resolve(reason);
      else reject(error);
    };
    waiter.wake = (reason) => finish(reason);
    if (userSleep === undefined || timer === undefined) {
      if (ms !== Infinity) id = setTimeout(() => finish("timer"), ms);
      return;
    }
    const signal = timer.signal;
    let sleeping: Promise<void>;
    try {
      sleeping = Promise.resolve(userSleep(ms, { signal }));
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

/** The reason given to a user's sleep that is stopped early. */
const WOKEN = new Error("Woken before the end of the sleep");
