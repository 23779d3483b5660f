// Copyright 2026 the @locks/process-lock authors. MIT license.
// The lock file's kernel lock: one try, checking that the path still names
// the file that was locked, and closing.

import { lockFileError } from "./_errors.ts";
import type { LockMode } from "../_core/_options.ts";
import { MAX_TRIES, openLockFile } from "./_open.ts";

/**
 * Windows locks are mandatory: while one process holds the lock, others can
 * neither read nor write the file, and contention can be reported as
 * PermissionDenied.
 */
const IS_WINDOWS = Deno.build.os === "windows";

/**
 * One non-blocking try at the kernel lock.
 *
 * @returns True when the lock is now held through `file`.
 */
export function tryLockFile(file: Deno.FsFile, mode: LockMode): boolean {
  try {
    // Always say which: Deno's default is shared.
    return file.tryLockSync(mode === "exclusive");
  } catch (error) {
    // LockFileEx can report a conflict as ERROR_LOCK_VIOLATION, which Deno
    // surfaces as PermissionDenied.
    if (IS_WINDOWS && error instanceof Deno.errors.PermissionDenied) {
      return false;
    }
    throw error;
  }
}

/**
 * Checks that `path` still names the file open as `file` (same device and
 * inode).
 *
 * @returns The file's info, or undefined once the file at the path was
 * deleted or replaced.
 * @throws A `Deno.errors` error naming the path when it cannot be checked.
 */
export function statIfSameFile(
  file: Deno.FsFile,
  path: string,
): Deno.FileInfo | undefined {
  const held = file.statSync();
  let current: Deno.FileInfo;
  try {
    current = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw lockFileError(error, path);
  }
  return held.dev === current.dev && held.ino === current.ino
    ? current
    : undefined;
}

/**
 * Opens the lock file at `path` and tries to lock it once; when it locks a
 * file that the path no longer names (deleted or replaced in between), drops
 * it and starts over.
 *
 * @param how `file`: a file already open for `path` (kept by a waiting
 * call), or undefined to open one; `recheck`: whether a kept file found
 * busy is checked to be still the one at the path (when it is not, the new
 * file is tried); `anyFile`: whether a file that opens only for reading may
 * be the lock.
 * @returns The file; whether the lock is now held through it; its info when
 * it was checked (always when locked); whether this call opened it (its
 * offset is then 0). A file returned unlocked is the one at the path as of
 * this call.
 * @throws A `Deno.errors` error naming the path; nothing is left open.
 */
export function tryLockPath(
  path: string,
  mode: LockMode,
  how: { file: Deno.FsFile | undefined; recheck: boolean; anyFile: boolean },
): {
  file: Deno.FsFile;
  locked: boolean;
  info?: Deno.FileInfo;
  opened: boolean;
} {
  let { file } = how;
  const { recheck, anyFile } = how;
  for (let tries = 1;; tries++) {
    const fresh = file === undefined;
    const current = file ?? openLockFile(path, anyFile);
    let locked: boolean;
    let info: Deno.FileInfo | undefined;
    try {
      locked = tryLockFile(current, mode);
      // A file opened just now and found busy is the one at the path; a
      // kept one is checked only when asked to.
      if (!locked && (fresh || !recheck)) {
        return { file: current, locked, opened: fresh };
      }
      info = statIfSameFile(current, path);
    } catch (error) {
      closeLockFile(current);
      throw error;
    }
    if (info !== undefined) {
      return { file: current, locked, info, opened: fresh };
    }
    // Whatever lock was taken there protects nothing.
    closeLockFile(current);
    file = undefined;
    if (tries === MAX_TRIES) {
      throw new Error(
        `Cannot lock "${path}": the file was replaced ${MAX_TRIES} times in a row while locking it`,
      );
    }
  }
}

/**
 * Closes a lock file, which frees its lock (on Windows it is unlocked first,
 * since closing frees it only in time). Ignores a handle already closed.
 */
export function closeLockFile(file: Deno.FsFile): void {
  if (IS_WINDOWS) {
    try {
      file.unlockSync();
    } catch {
      // Closing below frees the lock all the same.
    }
  }
  try {
    file.close();
  } catch {
    // Already closed.
  }
}
