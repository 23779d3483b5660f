// Copyright 2026 the @locks/process-lock authors. MIT license.
// Booking a kernel lock on a lock file as it is taken and released: the
// owner record, the streak of this process, the step-aside at release when
// another process waits, and a new reader making way for a waiting writer.

import type { LockMode } from "../_core/_options.ts";
import type { Logger } from "../_core/types.ts";
import { closeLockFile, statIfSameFile } from "./_lock_file.ts";
import {
  clearMark,
  clearOwnerReadingMark,
  isWriterWaiting,
  type Mark,
  MARK_TTL_MS,
  readMark,
  writeOwner,
} from "./_record.ts";
import { type PathState, stateOf } from "./_waiters.ts";

/** How long (ms) a process keeps a lock by taking it back before it looks
 * for waiters. */
const STREAK_MS = 5;
/** How long (ms) a process that steps aside leaves the lock to others. */
const STEP_ASIDE_MS = 2;

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

/**
 * For a read lock just taken through `file` by a call that began `waitedMs`
 * ago: whether it must make way for a writer of another process that waits
 * (writer preference; a reader defers for a mark's lifetime at most, so
 * that no reader starves). Lets the lock go then.
 */
export function yieldsToWriter(
  file: Deno.FsFile,
  mode: LockMode,
  waitedMs: number,
): boolean {
  if (mode !== "shared" || waitedMs >= MARK_TTL_MS) return false;
  if (!isWriterWaiting(readMark(file))) return false;
  file.unlockSync();
  return true;
}

/** Held files whose owner record this process wrote. */
const recorded = new WeakSet<Deno.FsFile>();

/**
 * Books a lock just taken: the streak, and for an exclusive lock the owner
 * record (`atStart`: the file offset is 0). Empties this call's waiting
 * mark, if any.
 */
export function bookAcquired(
  state: PathState,
  file: Deno.FsFile,
  mode: LockMode,
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
  if (mode === "exclusive") {
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
  absolutePath: string,
  file: Deno.FsFile,
  logger: Logger | undefined,
): void {
  const state = stateOf(absolutePath);
  state.holders = Math.max(0, state.holders - 1);
  const now = performance.now();
  const streak = now - state.streakStart >= STREAK_MS;
  // Empty the owner record this process wrote (reading the mark on the
  // way); else read the mark only when the streak is long enough to care.
  const mark = recorded.delete(file)
    ? clearOwnerReadingMark(file)
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
        `Stepping aside from the lock on "${absolutePath}" for ${STEP_ASIDE_MS} ms: process ${mark.pid} waits`,
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
