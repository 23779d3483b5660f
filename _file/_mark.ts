// Copyright 2026 the @locks/process-lock authors. MIT license.
// A waiting call's mark in the lock file ("a process waits, as of time T",
// and whether it waits to write): written when the call starts to wait on
// another process, renewed every MARK_REFRESH_MS while it waits, and
// emptied when it wins or gives up.

import { BLOCK_SIZE, clearMark, type Mark, writeMark } from "./_record.ts";

/** How often (ms) a waiting process renews its waiting mark. */
const MARK_REFRESH_MS = 2_000;

/** The mark of one waiting call, kept in whichever file it waits on. */
export class WaitingMark {
  #file: Deno.FsFile;
  #mark: Mark;
  #timer: ReturnType<typeof setInterval>;

  /**
   * Writes the mark into `file`, whose size is `size` (only a file of the
   * block's size can carry it), and renews it until stopped; `writer`: the
   * call waits for an exclusive lock.
   */
  constructor(file: Deno.FsFile, size: number, writer: boolean) {
    this.#file = file;
    this.#mark = { at: Date.now(), pid: Deno.pid, writer };
    if (size === BLOCK_SIZE) writeMark(file, this.#mark);
    this.#timer = setInterval(() => {
      this.#mark = { at: Date.now(), pid: Deno.pid, writer };
      writeMark(this.#file, this.#mark);
    }, MARK_REFRESH_MS);
    Deno.unrefTimer(this.#timer);
  }

  /** The mark as last written. */
  get mark(): Mark {
    return this.#mark;
  }

  /** Renews the mark in `file` from now on (the call waits on a new file). */
  moveTo(file: Deno.FsFile): void {
    this.#file = file;
  }

  /** Stops renewing the mark. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** Stops renewing, and empties the mark if it is still this call's. */
  clear(): void {
    this.stop();
    clearMark(this.#file, this.#mark);
  }
}
