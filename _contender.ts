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

/** How often in a row the file may be replaced before a try gives up. */
const MAX_REPLACED = 16;

/**
 * Tries the kernel lock on `path` through its own open file, reopening when
 * the file was deleted or replaced, and reports success to `onLocked`.
 */
export class FileContender implements Contender {
  #opened: OpenedFile | undefined;
  #fresh = false;

  constructor(
    readonly path: string,
    readonly exclusive: boolean,
    readonly onLocked: (file: Deno.FsFile) => void,
  ) {}

  tryAcquire(): boolean {
    for (let replaced = 0;; replaced++) {
      if (this.#opened === undefined) {
        this.#opened = openLockFile(this.path);
        this.#fresh = true;
        if (this.#opened.created) initRecord(this.#opened.file);
      }
      const { file } = this.#opened;
      const locked = tryLockFile(file, this.exclusive);
      // A file opened just now was the one at the path; an older one may
      // have been replaced while this call waited.
      if (!locked && this.#fresh) {
        this.#fresh = false;
        return false;
      }
      this.#fresh = false;
      const info = statIfSameFile(file, this.path);
      if (info !== undefined) {
        if (!locked) return false;
        if (this.exclusive) writeRecord(file, info);
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

/** Unlocks and closes a held lock file, then offers the lock to waiters. */
export function releaseLockFile(key: string, file: Deno.FsFile): void {
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
