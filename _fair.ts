// Copyright 2026 the @locks/process-lock authors. MIT license.
// Fairness across processes. The kernel gives a released lock to whoever
// tries first, and the process that just released it is always first, so a
// busy process could keep a lock for ever while others wait. Waiters
// therefore mark the lock file as "waited for" (an access time that no
// kernel sets: far in the future, so reads leave it alone), and a holder
// that has kept the lock for a while checks the mark when it releases: if
// someone waits, its next acquire of that file yields for a moment first.
// Holders that run alone pay one fstat per streak, waiters one utime now and
// then; correctness never depends on any of it.

/** The mark: 2200-01-01 as an access time, in seconds. */
const MARK_SECONDS = 7258118400;
const MARK_MS = MARK_SECONDS * 1000;
/** How long a process may keep re-acquiring a waited-for lock. */
export const STREAK_MS = 5;
/** How long a yielding process stays back, in ms. */
export const GRACE_MS = 5;
/** Re-acquiring within this many ms of a release continues a streak. */
const REACQUIRE_MS = 1;

interface Streak {
  start: number;
  lastRelease: number;
}

const streaks = new Map<string, Streak>();
const polite = new Set<string>();

/** Whether the file info carries the waiters' mark. */
export function isMarked(info: Deno.FileInfo): boolean {
  return info.atime?.getTime() === MARK_MS;
}

/** Marks the file as waited for, unless it is already. Never throws. */
export function markWaiting(file: Deno.FsFile, info: Deno.FileInfo): void {
  if (isMarked(info)) return;
  try {
    file.utimeSync(MARK_SECONDS, info.mtime ?? new Date());
  } catch {
    // Not the file's owner (explicit times need it): no fairness, no harm.
  }
}

/**
 * Whether an acquire of `key` now would continue this process's streak
 * (it released the lock a moment ago). Such an acquire need not rewrite
 * the owner record: the holder is the same.
 */
export function inStreak(key: string): boolean {
  const streak = streaks.get(key);
  return streak !== undefined &&
    performance.now() - streak.lastRelease <= REACQUIRE_MS;
}

/** Notes that this process acquired the lock on `key`. */
export function noteAcquired(key: string): void {
  const now = performance.now();
  const streak = streaks.get(key);
  if (streak === undefined) {
    streaks.set(key, { start: now, lastRelease: -Infinity });
  } else if (now - streak.lastRelease > REACQUIRE_MS) {
    streak.start = now;
  }
}

/**
 * Called before `file` (held as the lock on `key`) is closed. Returns true
 * when this process should let a waiter of another process go first: it
 * has held the lock for a streak of at least {@linkcode STREAK_MS} and the
 * file is marked. Then it clears the mark and makes the next acquire of
 * `key` in this process yield.
 */
export function yieldOnRelease(key: string, file: Deno.FsFile): boolean {
  const now = performance.now();
  const streak = streaks.get(key);
  if (streak === undefined) return false;
  streak.lastRelease = now;
  if (now - streak.start < STREAK_MS) return false;
  let info: Deno.FileInfo;
  try {
    info = file.statSync();
  } catch {
    return false;
  }
  streak.start = now;
  if (!isMarked(info)) return false;
  try {
    // Clear it: waiters still waiting mark it again on their next try.
    file.utimeSync(new Date(), info.mtime ?? new Date());
  } catch {
    // Then the next holder will yield once more: harmless.
  }
  streaks.delete(key);
  polite.add(key);
  return true;
}

/** Whether the next acquire of `key` should yield; resets the request. */
export function takeYield(key: string): boolean {
  return polite.delete(key);
}
