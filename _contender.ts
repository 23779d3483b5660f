// Copyright 2026 the @locks/process-lock authors. MIT license.
// A contender for the kernel lock on a file: the one piece that every lock
// kind (exclusive, read, write) hands to the acquisition loop.

import type { Contender } from "./_acquire.ts";
import { handOff } from "./_acquire.ts";
import {
  closeLockFile,
  type OpenedFile,
  openLockFile,
  statIfSameFile,
  tryLockFile,
} from "./_file.ts";
import { initRecord, writeRecord } from "./_owner.ts";
import { inStreak, noteReleased } from "./_streak.ts";

/** How often in a row the file may be replaced before a try gives up. */
const MAX_REPLACED = 16;

/**
 * Tries the kernel lock on `path` through its own open file, reopening when
 * the file was deleted or replaced, and reports success to `onLocked`.
 */
export class FileContender implements Contender {
  #opened: OpenedFile | undefined;
  /** True until the first try on a newly opened file. */
  #fresh = false;

  constructor(
    readonly key: string,
    readonly path: string,
    readonly exclusive: boolean,
    readonly onLocked: (file: Deno.FsFile) => void,
  ) {}

  tryAcquire(recheck: boolean): boolean {
    for (let replaced = 0;; replaced++) {
      if (this.#opened === undefined) {
        this.#opened = openLockFile(this.path);
        this.#fresh = true;
        if (this.#opened.created) initRecord(this.#opened.file);
      }
      const { file } = this.#opened;
      const fresh = this.#fresh;
      this.#fresh = false;
      const locked = tryLockFile(file, this.exclusive);
      // A file opened just now was the one at the path; one that a waiting
      // call has kept open may have been replaced meanwhile.
      if (!locked && (fresh || !recheck)) return false;
      // After locking, and after a timer or a change while waiting: is the
      // file open still the one at the path?
      const info = statIfSameFile(file, this.path);
      if (info !== undefined) {
        if (!locked) return false;
        if (this.exclusive && !inStreak(this.key)) writeRecord(file, info);
        this.#opened = undefined;
        this.onLocked(file);
        return true;
      }
      // Deleted or replaced: whatever lock was taken there protects nothing.
      closeLockFile(file);
      this.#opened = undefined;
      if (replaced >= MAX_REPLACED) {
        throw new Error(
          `Cannot lock "${this.path}": the file was replaced ${MAX_REPLACED} times in a row while locking it`,
        );
      }
    }
  }

  abandon(): void {
    if (this.#opened !== undefined) closeLockFile(this.#opened.file);
    this.#opened = undefined;
  }
}

/**
 * Unlocks and closes a held lock file, then offers the lock to the waiting
 * calls of this process.
 */
export function releaseLockFile(key: string, file: Deno.FsFile): void {
  noteReleased(key);
  closeLockFile(file);
  handOff(key);
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
