// Copyright 2026 the @locks/process-lock authors. MIT license.
// Streaks: a process that releases a lock and takes it again at once is the
// same holder as before, so its owner record need not be rewritten (which
// saves a write, and the file-system event that wakes every watcher).

/** Re-acquiring within this many ms of a release continues a streak. */
const REACQUIRE_MS = 1;

/** When this process last released each lock, by key. */
const lastRelease = new Map<string, number>();

/**
 * Whether an acquire of `key` now would continue this process's streak
 * (it released the lock a moment ago).
 */
export function inStreak(key: string): boolean {
  const at = lastRelease.get(key);
  return at !== undefined && performance.now() - at <= REACQUIRE_MS;
}

/** Notes that this process released the lock on `key`. */
export function noteReleased(key: string): void {
  lastRelease.set(key, performance.now());
}

/**
 * A process may keep a lock this long (in ms) by re-acquiring it at once
 * before it checks whether another process waits, and then gives it up.
 */
export const STREAK_MS = 5;
