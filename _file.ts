// Copyright 2026 the @locks/process-lock authors. MIT license.
// The lock file: opening it safely, one non-blocking try at the kernel lock,
// and checking that the path still names the file that was locked.

import { dirname } from "node:path";

const OPEN_EXISTING: Deno.OpenOptions = { read: true, write: true };
const OPEN_NEW: Deno.OpenOptions = { read: true, write: true, createNew: true };
/**
 * Windows locks are mandatory: while one process holds the lock, others can
 * neither read nor write the file (so there is no waiter queue there), and
 * contention can be reported as PermissionDenied.
 */
export const IS_WINDOWS: boolean = Deno.build.os === "windows";

/** A lock file opened by {@linkcode openLockFile}. */
export interface OpenedFile {
  file: Deno.FsFile;
  /** True when this call created the file. */
  created: boolean;
}

/**
 * Opens (and if needed creates, with its parent directories) the lock file
 * for reading and writing, never truncating and never in append mode.
 *
 * @throws A Deno error of the original class whose message names the path
 * and the problem.
 */
export function openLockFile(path: string): OpenedFile {
  try {
    return { file: Deno.openSync(path, OPEN_EXISTING), created: false };
  } catch (error) {
    // Some Deno versions report a dangling symbolic link as a loop.
    if (
      !(error instanceof Deno.errors.NotFound) &&
      !(error instanceof Deno.errors.FilesystemLoop)
    ) {
      throw explain(error, path);
    }
    // The file is missing. A dangling symbolic link also reads as missing:
    // creating through it would lock a file somewhere else, so refuse it.
    let link: Deno.FileInfo | undefined;
    try {
      link = Deno.lstatSync(path);
    } catch (lstatError) {
      if (!(lstatError instanceof Deno.errors.NotFound)) {
        throw explain(lstatError, path);
      }
    }
    if (link?.isSymlink) {
      if (!isDangling(path)) throw explain(error, path);
      throw new Deno.errors.NotFound(
        `Cannot use "${path}" as a lock file: it is a symbolic link to a file that does not exist`,
      );
    }
    // Not a link: the file is missing, or another process has just created
    // it; the creation below copes with both.
  }
  try {
    Deno.mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw explain(error, path, dirname(path));
  }
  try {
    return { file: Deno.openSync(path, OPEN_NEW), created: true };
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw explain(error, path);
    }
  }
  // Another process created it in between: use theirs.
  try {
    return { file: Deno.openSync(path, OPEN_EXISTING), created: false };
  } catch (error) {
    throw explain(error, path);
  }
}

/** Whether the symbolic link at `path` points to nothing (not a loop). */
function isDangling(path: string): boolean {
  try {
    Deno.statSync(path);
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotFound;
  }
}

/**
 * One non-blocking try at the kernel lock.
 *
 * @returns True when the lock is now held through `file`.
 */
export function tryLockFile(file: Deno.FsFile, exclusive: boolean): boolean {
  try {
    return file.tryLockSync(exclusive);
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
 * @returns The held file's info, or `undefined` when the file was deleted or
 * replaced.
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
    throw explain(error, path);
  }
  return held.dev === current.dev && held.ino === current.ino
    ? held
    : undefined;
}

/** Unlocks and closes, ignoring a handle that is already closed. */
export function closeLockFile(file: Deno.FsFile): void {
  try {
    file.unlockSync();
  } catch {
    // Closing below frees the lock all the same.
  }
  try {
    file.close();
  } catch {
    // Already closed.
  }
}

/**
 * Rewrites a file-system error so that its message names the lock path and
 * says what to do. Keeps the error's class, and the original as `cause`.
 */
export function explain(
  error: unknown,
  path: string,
  directory?: string,
): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const prefix = directory === undefined
    ? `Cannot open lock file "${path}"`
    : `Cannot create the directory "${directory}" for lock file "${path}"`;
  let message: string;
  if (error instanceof Deno.errors.NotCapable) {
    message =
      `${prefix}: ${error.message} (a lock needs --allow-read and --allow-write for its file)`;
  } else if (error instanceof Deno.errors.IsADirectory) {
    message = `${prefix}: it is a directory`;
  } else if (error instanceof Deno.errors.NotADirectory) {
    message = `${prefix}: a part of its parent path is a file, not a directory`;
  } else if (error instanceof Deno.errors.PermissionDenied) {
    message =
      `${prefix}: the operating system denied access (is the directory writable?): ${error.message}`;
  } else {
    message = `${prefix}: ${error.message}`;
  }
  const Class = error.constructor as new (
    message: string,
    options?: ErrorOptions,
  ) => Error;
  try {
    const wrapped = new Class(message, { cause: error });
    if (wrapped instanceof Error) return wrapped;
  } catch {
    // A class that cannot be built this way: fall through.
  }
  return new Error(message, { cause: error });
}
