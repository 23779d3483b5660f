// Copyright 2026 the @locks/process-lock authors. MIT license.
// Opening a lock file safely: created when missing (with the empty record
// block), never truncated, never through a dangling symbolic link, and
// retried when it vanishes while being opened.

import { dirname } from "node:path";
import { lockFileError } from "./_errors.ts";
import { initBlock } from "./_record.ts";

const OPEN_EXISTING: Deno.OpenOptions = { read: true, write: true };
const OPEN_NEW: Deno.OpenOptions = { read: true, write: true, createNew: true };

/** How often in a row the file may vanish or be replaced before giving up. */
export const MAX_TRIES = 16;

/**
 * Opens (and if needed creates, with its parent directories and the empty
 * record block) the lock file for reading and writing, never truncating and
 * never in append mode.
 *
 * @throws A Deno error of the original class whose message names the path
 * and the problem.
 */
export function openLockFile(path: string, anyFile = false): Deno.FsFile {
  for (let tries = 1;; tries++) {
    const file = openOnce(path, anyFile);
    if (file !== undefined) return file;
    // Deleted between "already exists" and the second open: start over.
    if (tries === MAX_TRIES) {
      throw new Deno.errors.NotFound(
        `Cannot open lock file "${path}": it was deleted ${MAX_TRIES} times in a row while opening it`,
      );
    }
  }
}

/**
 * Creates the missing parent directories of `path`; with `anyFile`, as
 * `flock(1)`, none: a missing one is an error that names it.
 */
function makeParent(path: string, anyFile: boolean): void {
  const parent = dirname(path);
  try {
    if (!anyFile) Deno.mkdirSync(parent, { recursive: true });
    else if (!Deno.statSync(parent).isDirectory) {
      throw new Deno.errors.NotADirectory();
    }
  } catch (error) {
    if (anyFile && error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `Cannot create lock file "${path}": the directory "${parent}" does not exist`,
      );
    }
    throw lockFileError(error, path, anyFile ? undefined : parent);
  }
}

/**
 * One open; undefined when the file vanished after "already exists". With
 * `anyFile`, an existing file that cannot be opened for writing (a
 * directory, a read-only file or file system) is opened for reading.
 */
function openOnce(path: string, anyFile: boolean): Deno.FsFile | undefined {
  try {
    return Deno.openSync(path, OPEN_EXISTING);
  } catch (error) {
    // Some Deno versions report a dangling symbolic link as a loop.
    if (
      !(error instanceof Deno.errors.NotFound) &&
      !(error instanceof Deno.errors.FilesystemLoop)
    ) {
      if (anyFile) {
        try {
          return Deno.openSync(path, { read: true });
        } catch {
          // Report the first error.
        }
      }
      throw lockFileError(error, path);
    }
    // The file is missing. A dangling symbolic link also reads as missing:
    // creating through it would lock a file somewhere else, so refuse it.
    let link: Deno.FileInfo | undefined;
    try {
      link = Deno.lstatSync(path);
    } catch (lstatError) {
      if (!(lstatError instanceof Deno.errors.NotFound)) {
        throw lockFileError(lstatError, path);
      }
    }
    if (link?.isSymlink) {
      if (!isDangling(path)) throw lockFileError(error, path);
      throw new Deno.errors.NotFound(
        `Cannot use "${path}" as a lock file: it is a symbolic link to a file that does not exist`,
      );
    }
    // Not a link: the file is missing, or another process has just created
    // it; the creation below copes with both.
  }
  makeParent(path, anyFile);
  let created: Deno.FsFile;
  try {
    created = Deno.openSync(path, OPEN_NEW);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw lockFileError(error, path);
    }
    // Another process created it in between: use theirs.
    try {
      return Deno.openSync(path, OPEN_EXISTING);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw lockFileError(error, path);
    }
  }
  try {
    initBlock(created);
    created.seekSync(0, Deno.SeekMode.Start);
  } catch {
    // A full file system: the file works as a lock without the block.
  }
  return created;
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
