// Copyright 2026 the @locks/process-lock authors. MIT license.
// The one acquisition loop behind every file lock kind: a try at once, then
// a wait in named steps (turn, try, this process, and for another process a
// watch of the file with fasteners' backoff).

import type { LockMode, ResolvedAcquireOptions } from "../_core/_options.ts";
import type { ResolvedLockOptions } from "./_options.ts";
import { closeLockFile, tryLockPath } from "./_lock_file.ts";
import { bookAcquired, isHeldFileValid, yieldsToWriter } from "./_hold.ts";
import { WaitingMark } from "./_mark.ts";
import { type PathState, stateOf, Waiter } from "./_waiters.ts";
import { CallWatch } from "./_watch.ts";

/** How often (ms) a failed try checks that the kept file is still the one
 * at the path (and at once after a change event). */
const RECHECK_MS = 1_000;
/** The shortest pause between two tries, so `delay: 0` never spins. */
const MIN_SLEEP_MS = 1;

/** What one acquire call asks for. */
export interface AcquireRequest {
  /** The lock file's path as given (opened, and named in messages). */
  path: string;
  /** The lock file's absolute path (this process's state, the watcher). */
  absolutePath: string;
  mode: LockMode;
  options: ResolvedAcquireOptions;
  lockOptions: ResolvedLockOptions;
  /** Aborted when the lock object is disposed. */
  objectSignal: AbortSignal;
}

/**
 * Acquires a lock: fasteners' semantics, plus arrival order in this
 * process and wake-up on release.
 *
 * @returns The file through which the lock is held; undefined when
 * non-blocking or timed out.
 * @throws `signal.reason` when aborted; file-system errors naming the path.
 * Nothing is left held or open after a throw.
 */
export async function acquireFile(
  request: AcquireRequest,
): Promise<Deno.FsFile | undefined> {
  const call = new FileAcquisition(request);
  call.signal.throwIfAborted();
  if (call.mayTryAtOnce()) {
    try {
      if (call.attempt()) return call.held;
    } catch (error) {
      call.close();
      throw error;
    }
  }
  if (!call.mayWait) {
    call.close();
    return undefined;
  }
  return (await call.wait()) ? call.held : undefined;
}

/** One acquire call on a lock file: its kept file, mark, watcher and tries. */
class FileAcquisition {
  readonly signal: AbortSignal;
  /** Whether the call may wait (blocking, and a timeout other than 0). */
  readonly mayWait: boolean;
  /** The file through which the lock is held, once taken. */
  held: Deno.FsFile | undefined;
  #request: AcquireRequest;
  #state: PathState;
  #waiter: Waiter;
  #deadline: number;
  /** The file this call keeps open while it waits. */
  #file: Deno.FsFile | undefined;
  #mark: WaitingMark | undefined;
  #watch = new CallWatch();
  /** When the kept file was last seen at the path. */
  #checkedAt = 0;
  /** A change event came: check the kept file at the next try. */
  #changed = false;
  #attempts = 0;
  #since = performance.now();
  #sleepMs: number;
  #onAbort = () => this.#waiter.wake("abort");

  constructor(request: AcquireRequest) {
    const { options, objectSignal } = request;
    this.#request = request;
    this.signal = options.signal === undefined
      ? objectSignal
      : AbortSignal.any([options.signal, objectSignal]);
    this.mayWait = options.blocking && options.timeout !== 0;
    this.#state = stateOf(request.absolutePath);
    this.#waiter = new Waiter(request.mode);
    this.#deadline = performance.now() + (options.timeout ?? Infinity);
    this.#sleepMs = options.delay;
  }

  /** Whether to try before waiting (a call that must not wait does). */
  mayTryAtOnce(): boolean {
    return !this.mayWait || this.#state.mayTryAtOnce();
  }

  /** One try at the lock; when it is taken, books it and hands it over. */
  attempt(): boolean {
    const { path, mode, lockOptions: { anyFile } } = this.#request;
    const now = performance.now();
    const recheck = this.#changed || now - this.#checkedAt >= RECHECK_MS;
    let result;
    try {
      result = tryLockPath(path, mode, { file: this.#file, recheck, anyFile });
    } catch (error) {
      this.#file = undefined; // tryLockPath closed it
      throw error;
    }
    if (recheck || result.opened) this.#checkedAt = now;
    this.#changed = false;
    if (result.locked && yieldsToWriter(result.file, mode, now - this.#since)) {
      result.locked = false;
    }
    if (result.opened) {
      // A new file at the path: wait on it (the watcher follows the old one).
      this.#watch.stop();
      this.#mark?.moveTo(result.file);
    }
    this.#file = result.file;
    const outcome = result.locked ? "acquired" : "busy";
    this.#debug(`Attempt ${++this.#attempts} at the ${mode} lock: ${outcome}`);
    if (!result.locked) return false;
    this.#file = undefined;
    this.#bookAcquired(result.file, result.info!.size, result.opened);
    return true;
  }

  /** Waits in turn until the lock is taken or the time is up. */
  async wait(): Promise<boolean> {
    this.signal.addEventListener("abort", this.#onAbort, { once: true });
    this.#state.queue.push(this.#waiter);
    try {
      while (true) {
        this.signal.throwIfAborted();
        const remaining = this.#deadline - performance.now();
        if (remaining <= 0) return this.#lastTry();
        if (await this.#waitForTurn(remaining)) continue;
        if (this.attempt()) return true;
        if (await this.#waitForThisProcess(remaining)) continue;
        this.#markWaiting();
        if (!this.#startWatching()) await this.#backOff(remaining);
      }
    } finally {
      this.#leave();
    }
  }

  /** Closes the kept file, if any (a call that did not wait). */
  close(): void {
    if (this.#file !== undefined) closeLockFile(this.#file);
    this.#file = undefined;
  }

  /** As fasteners: one last try when the time is up (the head only). */
  #lastTry(): boolean {
    if (this.#isHead() && this.attempt()) return true;
    const { mode, options } = this.#request;
    this.#debug(
      `Gave up on the ${mode} lock after ${options.timeout} ms and ${this.#attempts} attempts`,
    );
    return false;
  }

  /** Sleeps until this call's turn in this process; true if it slept. */
  async #waitForTurn(remaining: number): Promise<boolean> {
    const pause = this.#state.pauseBeforeTurn(this.#waiter, remaining);
    if (pause <= 0) return false;
    await this.#waiter.sleep(pause);
    return true;
  }

  /** Sleeps while this process holds the lock (its release wakes this
   * call); true if it did. */
  async #waitForThisProcess(remaining: number): Promise<boolean> {
    if (this.#state.holders === 0) return false;
    await this.#waiter.sleep(remaining);
    return true;
  }

  /** Says in the lock file that a process waits, and keeps saying so. */
  #markWaiting(): void {
    if (this.#mark !== undefined) return;
    const { size } = this.#file!.statSync();
    const writer = this.#request.mode === "exclusive";
    this.#mark = new WaitingMark(this.#file!, size, writer);
  }

  /** Starts watching the file, once (true then): the loop tries again at
   * once, so that no release slips in between. */
  #startWatching(): boolean {
    const { absolutePath, path, lockOptions } = this.#request;
    return this.#watch.start(
      absolutePath,
      (reason) => this.#waiter.wake(reason),
      () => this.#file === undefined || isHeldFileValid(this.#file, path),
      lockOptions.logger,
    );
  }

  /** Sleeps fasteners' backoff (delay, +delay per timer, up to maxDelay),
   * or until the watcher can start. */
  async #backOff(remaining: number): Promise<void> {
    const { options, lockOptions, absolutePath } = this.#request;
    const untilWatch = this.#watch.settleLeft(absolutePath);
    const pause = Math.min(
      Math.max(Math.min(this.#sleepMs, untilWatch), MIN_SLEEP_MS),
      remaining,
    );
    this.#debug(`Waiting up to ${pause.toFixed(1)} ms`);
    const reason = await this.#waiter.sleep(pause, lockOptions.sleep);
    if (reason === "timer") {
      this.#sleepMs = Math.min(this.#sleepMs + options.delay, options.maxDelay);
    } else if (reason === "change") {
      // The file may have left the path: check it at the next try, and
      // watch anew (the watcher follows the old file).
      this.#changed = true;
      this.#watch.stop();
    }
  }

  /** Logs `text` about this lock file, at debug level. */
  #debug(text: string): void {
    const { lockOptions, absolutePath } = this.#request;
    lockOptions.logger?.debug(`${text} (${absolutePath})`);
  }

  #isHead(): boolean {
    return this.#state.queue[0] === this.#waiter;
  }

  /** Books the lock taken through `file`, and hands it to the caller. */
  #bookAcquired(file: Deno.FsFile, size: number, atStart: boolean): void {
    const { mode } = this.#request;
    this.#mark?.stop();
    bookAcquired(this.#state, file, mode, size, atStart, this.#mark?.mark);
    this.#mark = undefined;
    this.held = file;
  }

  /** Leaves the queue and clears up; the next call of this process tries,
   * unless this one took the lock in a way that excludes it. */
  #leave(): void {
    this.signal.removeEventListener("abort", this.#onAbort);
    this.#watch.stop();
    const queue = this.#state.queue;
    const wasHead = this.#isHead();
    queue.splice(queue.indexOf(this.#waiter), 1);
    if (this.#file !== undefined) this.#mark?.clear();
    else this.#mark?.stop();
    this.close();
    const next = queue[0];
    const shareable = this.#request.mode === "shared" &&
      next?.mode === "shared";
    if (wasHead && (!this.held || shareable)) next?.wake("change");
  }
}
