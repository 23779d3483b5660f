// Copyright 2026 the @locks/process-lock authors. MIT license.
// A contender for the kernel lock on a file: the one piece that every lock
// kind (exclusive, read, write) hands to the acquisition loop. Also the
// turn-taking between processes: a process that keeps re-acquiring a lock
// keeps its file open and gives the lock up after a short streak when
// another process has said that it waits.

import type { Contender } from "./_acquire.ts";
import { handOff } from "./_acquire.ts";
import {
  closeLockFile,
  IS_WINDOWS,
  type OpenedFile,
  openLockFile,
  statIfSameFile,
  tryLockFile,
} from "./_file.ts";
import {
  carriesRecords,
  clearRecord,
  hasClaims,
  hostname,
  initRecord,
  readClaims,
  readRecord,
  recordNamesThisProcess,
  writeClaim,
  writeRecord,
} from "./_owner.ts";
import { STREAK_MS } from "./_streak.ts";

const IS_LINUX = Deno.build.os === "linux";

/** How often in a row the file may be replaced before a try gives up. */
const MAX_REPLACED = 16;

/** How often (in ms) a streak looks at the waiter queue, at most. */
const CHECK_MS = 1;
/**
 * A claim in the waiter queue older than this (in ms) that a newer waiter
 * got past is taken for one left by a process that died, and taken out.
 */
const STALE_CLAIM_MS = 1_000;

/** What this module knows of a held (or parked) lock file. */
interface Held {
  /** When this process's streak of holding the lock began. */
  since: number;
  /** Whether the file carries owner records and the waiter queue. */
  records: boolean;
  /** When the streak last read the waiter queue. */
  checked: number;
  /** Whether the streak wrote the owner record (cleared at the release). */
  recorded: boolean;
}

const held = new WeakMap<Deno.FsFile, Held>();

/**
 * Released lock files, unlocked but not yet closed, by key. Each is closed
 * in a microtask, before anything else can run, unless an acquire of this
 * process in the same job takes it back first: a loop that releases and
 * acquires again then needs no open and no close, and, making no close
 * event, wakes no waiter for a lock that it takes straight back.
 */
const parked = new Map<string, Deno.FsFile>();

function unpark(key: string): Deno.FsFile | undefined {
  const file = parked.get(key);
  if (file !== undefined) parked.delete(key);
  return file;
}

/**
 * Tries the kernel lock on `path` through its own open file, reopening when
 * the file was deleted or replaced, and reports success to `onLocked`.
 */
export class FileContender implements Contender {
  #opened: OpenedFile | undefined;
  /** True until the first try on a newly opened file. */
  #fresh = false;
  /** The streak that a parked file taken back continues, if any. */
  #continues: Held | undefined;
  /** Whether the open file carries the waiter queue (undefined: unknown). */
  #records: boolean | undefined;
  /** The queue slot that this call's claim was written to. */
  #slot: number | undefined;
  /** Set while waiting: when the wait began (epoch ms). */
  waitStart: number | undefined;

  constructor(
    readonly key: string,
    readonly path: string,
    readonly exclusive: boolean,
    readonly onLocked: (file: Deno.FsFile) => void,
  ) {}

  tryAcquire(recheck: boolean): boolean {
    for (let replaced = 0;; replaced++) {
      let opened = this.#opened;
      if (opened === undefined) {
        const kept = unpark(this.key);
        if (kept !== undefined) {
          // This process's own file, released a moment ago: no open needed,
          // and the check below still runs once it is locked.
          opened = this.#opened = { file: kept, created: false };
          this.#fresh = false;
          this.#continues = held.get(kept);
          this.#records = undefined;
        } else {
          opened = this.#open();
        }
      }
      const { file } = opened;
      const fresh = this.#fresh;
      this.#fresh = false;
      const locked = tryLockFile(file, this.exclusive);
      // A kept file continues its streak only if it is taken back at once.
      if (!locked) this.#continues = undefined;
      // A file opened just now was the one at the path; one that a waiting
      // call has kept open may have been replaced meanwhile.
      if (!locked && (fresh || !recheck)) return false;
      // After locking, and after a timer or a change while waiting: is the
      // file open still the one at the path?
      const info = statIfSameFile(file, this.path);
      if (info !== undefined) {
        if (!locked) return false;
        this.#won(file, info);
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

  /** Opens the lock file afresh (creating it, with its record, if need be). */
  #open(): OpenedFile {
    const opened = openLockFile(this.path);
    this.#opened = opened;
    this.#fresh = true;
    this.#continues = undefined;
    this.#records = undefined;
    if (opened.created) initRecord(opened.file);
    return opened;
  }

  #won(file: Deno.FsFile, info: Deno.FileInfo): void {
    const now = performance.now();
    const streak = this.#continues;
    let records = streak?.records;
    if (records === undefined) {
      try {
        records = carriesRecords(file, info);
      } catch {
        records = false;
      }
    }
    // The owner record, written once per streak by an exclusive holder.
    let recorded = streak?.recorded ?? false;
    if (this.exclusive && records && !recorded) {
      // Left by this process's last hold (nobody waited to need it
      // emptied): no need to write it again.
      if (!recordNamesThisProcess(file)) writeRecord(file, info);
      recorded = true;
    }
    // A waiter that wins takes its claim out of the queue, and the claims
    // older than its own that are also older than STALE_CLAIM_MS: those
    // were left by processes that died (a live waiter whose claim is taken
    // out writes it again, unchanged, when it next wakes).
    const start = this.waitStart;
    if (records && start !== undefined) {
      const stale = performance.timeOrigin + now - STALE_CLAIM_MS;
      const own = this.#claim(start);
      const claims = readClaims(file);
      for (let slot = 0; slot < claims.length; slot++) {
        const claim = claims[slot];
        const since = Math.abs(claim);
        if (
          claim === own || (claim !== 0 && since < start && since < stale)
        ) {
          writeClaim(file, slot, 0);
        }
      }
    }
    const state = streak ?? { since: now, records, checked: now, recorded };
    state.recorded = recorded;
    held.set(file, state);
    this.#opened = undefined;
    this.#continues = undefined;
    this.onLocked(file);
  }

  /**
   * Before the first try of a blocking call: when this process has kept the
   * lock for a streak and another process is in the waiter queue, closes the
   * kept file (the close wakes the waiters) instead of taking it back.
   *
   * @returns True when the call should give the others a moment first.
   */
  yieldTurn(): boolean {
    const file = parked.get(this.key);
    if (file === undefined) return false;
    const streak = held.get(file);
    if (streak === undefined || !streak.records) return false;
    const now = performance.now();
    if (now - streak.since < STREAK_MS || now - streak.checked < CHECK_MS) {
      return false;
    }
    streak.checked = now;
    if (!hasClaims(file)) return false;
    parked.delete(this.key);
    closeFor(file);
    return true;
  }

  /** The open file, when it carries the waiter queue (best effort). */
  #queueFile(): Deno.FsFile | undefined {
    if (IS_WINDOWS) return undefined;
    let opened = this.#opened;
    if (opened === undefined) {
      // A call that gave its turn away has not tried yet: open the file
      // now, so that it takes its place in the queue like any waiter.
      try {
        opened = this.#open();
      } catch {
        return undefined;
      }
    }
    const file = opened.file;
    if (this.#records === undefined) {
      try {
        this.#records = carriesRecords(file, file.statSync());
      } catch {
        this.#records = false;
      }
    }
    return this.#records ? file : undefined;
  }

  /**
   * Puts this waiting call in the waiter queue, or back in it with its
   * first claim when a winner took it out. Never throws; a full queue
   * leaves the call out (it still waits, without its place).
   */
  announce(): void {
    const start = this.waitStart;
    const file = this.#queueFile();
    if (start === undefined || file === undefined) return;
    const own = this.#claim(start);
    const claims = readClaims(file);
    if (this.#slot !== undefined && claims[this.#slot] === own) return;
    const free = claims.indexOf(0, Deno.pid % claims.length);
    const slot = free !== -1 ? free : claims.indexOf(0);
    if (slot === -1) return;
    writeClaim(file, slot, own);
    this.#slot = slot;
  }

  /**
   * How many claims in the waiter queue go before this call's (older ones;
   * for a shared call, older exclusive ones): 0 when it goes first at the
   * next release (also when there is no queue). Never throws.
   */
  queuePosition(): number {
    const start = this.waitStart;
    const file = this.#queueFile();
    if (file === undefined || start === undefined) return 0;
    // A shared call waits only behind exclusive claims: the readers ahead
    // of it can hold the lock together with it.
    return readClaims(file).filter((claim) =>
      claim !== 0 && Math.abs(claim) < start && (this.exclusive || claim > 0)
    ).length;
  }

  /** This call's claim in the queue: its wait start, negative if shared. */
  #claim(start: number): number {
    return this.exclusive ? start : -start;
  }

  /**
   * Whether the lock is held by a process of this library on this machine,
   * whose release (or death) closes a writable handle and so raises an event
   * on the file that `watched` ("device:inode") names. Its owner record says
   * so: written by an exclusive holder of this library, and emptied when it
   * releases while others wait (a record left from a release that nobody
   * waited for can make a waiter poll seldom on a holder of another tool:
   * still correct, only slower to notice). Known only on Linux (inotify
   * reports every close) and with the host names of both processes
   * (`--allow-sys=hostname`), so that a holder on another machine sharing
   * the file system is never taken for a local one. Never throws.
   */
  holderWakes(watched: string | undefined): boolean {
    if (!IS_LINUX) return false;
    const file = this.#queueFile();
    const here = hostname();
    if (file === undefined || watched === undefined || here === "") {
      return false;
    }
    try {
      const info = file.statSync();
      if (`${info.dev}:${info.ino}` !== watched) return false;
      return readRecord(file)?.hostname === here;
    } catch {
      return false;
    }
  }

  abandon(): void {
    const opened = this.#opened;
    this.#opened = undefined;
    if (opened === undefined) return;
    // A waiter that gives up takes its claim out of the queue.
    const slot = this.#slot;
    if (slot !== undefined && this.#records) {
      const start = this.waitStart;
      if (
        start !== undefined &&
        readClaims(opened.file)[slot] === this.#claim(start)
      ) {
        writeClaim(opened.file, slot, 0);
      }
    }
    closeLockFile(opened.file);
  }
}

/**
 * Unlocks a held lock file (other processes may take the lock from here
 * on), closes it at the end of the current job (the close is the event that
 * wakes waiting processes), and offers the lock to the waiting calls of
 * this process.
 */
export function releaseLockFile(key: string, file: Deno.FsFile): void {
  const state = held.get(file);
  // Without a waiter queue (a file made by another tool, or Windows) a kept
  // file would let a looping process keep the lock: close it at once.
  if (IS_WINDOWS || state?.records !== true) {
    closeLockFile(file);
    handOff(key);
    return;
  }
  try {
    file.unlockSync();
  } catch {
    // Closing frees the lock all the same.
    closeLockFile(file);
    handOff(key);
    return;
  }
  const previous = parked.get(key);
  if (previous !== undefined) closeFor(previous);
  parked.set(key, file);
  queueMicrotask(() => {
    if (parked.get(key) !== file) return;
    parked.delete(key);
    closeFor(file);
  });
  handOff(key);
}

/**
 * Closes a released (parked) file. When processes wait for the lock, first
 * empties the owner record that the streak wrote (unless someone has taken
 * the lock since): a waiter must not take the next holder for this one.
 * With nobody waiting the record stays, and the next hold of this process
 * need not write it again.
 */
function closeFor(file: Deno.FsFile): void {
  try {
    if (
      held.get(file)?.recorded && hasClaims(file) && tryLockFile(file, true)
    ) {
      clearRecord(file);
    }
  } catch {
    // The record is a courtesy; this runs in a microtask, where a throw
    // would end the process.
  }
  closeLockFile(file);
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
