// Copyright 2026 the @locks/process-lock authors. MIT license.
// Wake-up on release for calls that can be cancelled: one file-system
// watcher per lock path per process, shared by all of that path's listeners
// and closed when the last one leaves. Closing a lock file that was open for
// writing raises an event, so a release anywhere on the machine wakes them
// at once. The watcher follows the file's inode: when the file is removed or
// renamed it is closed, and the next call to listen watches the new file.
// Deno hears nothing on a new watcher of a path while an old watcher of
// that path's former file is open or was closed just before (in the same
// turn of the event loop; under load with Deno 2.7, a little later), so a
// new watcher of a path starts only once 50 ms have passed since such a
// close; until then the waiting call backs off, within its deadline.
// Correctness never depends on it: waiters keep their backoff timer.

import type { Logger } from "../_core/types.ts";
import type { WakeReason } from "./_waiters.ts";

interface SharedWatcher {
  watcher: Deno.FsWatcher;
  listeners: Set<(kind: Deno.FsEvent["kind"]) => void>;
}

const watchers = new Map<string, SharedWatcher>();
/** How long (ms) a closed watcher of a path is given to settle. */
const SETTLE_MS = 50;
/** When the watcher of a path was last closed (`performance.now()`). */
const closedAt = new Map<string, number>();

/**
 * Calls `listener` with the kind of every file-system event on `path` until
 * the returned function is called. Where watching is impossible (no read
 * permission, no inotify instances left, a file system without events) it
 * logs why and returns undefined: the caller's polling still works.
 */
function watchLockFile(
  path: string,
  listener: (kind: Deno.FsEvent["kind"]) => void,
  logger: Logger | undefined,
): (() => void) | undefined {
  closedAt.delete(path);
  let shared = watchers.get(path);
  if (shared === undefined) {
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(path, { recursive: false });
    } catch (error) {
      logger?.debug(
        `Cannot watch "${path}" for releases (${
          error instanceof Error ? error.message : String(error)
        }); waiting by polling`,
      );
      return undefined;
    }
    shared = { watcher, listeners: new Set() };
    watchers.set(path, shared);
    pump(path, shared, logger);
  }
  const entry = shared;
  entry.listeners.add(listener);
  return () => {
    if (entry.listeners.delete(listener) && entry.listeners.size === 0) {
      drop(path, entry);
    }
  };
}

/** How long (ms) until a new watcher of `path` may start (<= 0: now). */
function settleLeft(path: string): number {
  return SETTLE_MS - (performance.now() - (closedAt.get(path) ?? -Infinity));
}

/** Forgets and closes a shared watcher (once). */
function drop(path: string, shared: SharedWatcher): void {
  if (watchers.get(path) === shared) watchers.delete(path);
  try {
    shared.watcher.close();
  } catch {
    return; // Already closed.
  }
  // Only a time: no timer outlives the calls that wait on the lock.
  const now = performance.now();
  for (const [other, at] of closedAt) {
    if (now - at > SETTLE_MS) closedAt.delete(other);
  }
  closedAt.set(path, now);
}

async function pump(
  path: string,
  shared: SharedWatcher,
  logger: Logger | undefined,
): Promise<void> {
  try {
    for await (const event of shared.watcher) {
      for (const listener of shared.listeners) listener(event.kind);
      // The watched file left the path: the next listener watches anew.
      if (event.kind === "remove" || event.kind === "rename") {
        drop(path, shared);
        return;
      }
    }
  } catch (error) {
    logger?.debug(
      `Watching "${path}" failed (${
        error instanceof Error ? error.message : String(error)
      }); waiting by polling`,
    );
    drop(path, shared);
  }
}

/** Why an event wakes a waiting call: a release, or a change of the file. */
export type WatchWake = Extract<WakeReason, "release" | "change">;

/**
 * The watcher of one waiting call: started once, stopped when the call
 * leaves or its file leaves the path.
 */
export class CallWatch {
  #unwatch: (() => void) | undefined;
  #cannot = false;

  /**
   * Starts watching `absolutePath` for the call, once (and not again after
   * watching turned out impossible). `wake` hears a release, or a change:
   * a file that left the path, or (a "modify" event, the only one a file
   * renamed over the path raises) a kept file that `stillAtPath` denies.
   *
   * A path whose last watcher closed less than `SETTLE_MS` ago is not
   * watched yet: the call backs off meanwhile and starts later.
   *
   * @returns Whether it started, or failed to start, just now.
   */
  start(
    absolutePath: string,
    wake: (reason: WatchWake) => void,
    stillAtPath: () => boolean,
    logger: Logger | undefined,
  ): boolean {
    if (this.#unwatch !== undefined || this.#cannot) return false;
    if (settleLeft(absolutePath) > 0) return false;
    this.#unwatch = watchLockFile(absolutePath, (event) => {
      if (event === "access") wake("release");
      else if (event !== "modify") wake("change");
      else if (!stillAtPath()) wake("change");
    }, logger);
    this.#cannot = this.#unwatch === undefined;
    return true;
  }

  /**
   * How long (ms) until `start` can watch `absolutePath` after a settle;
   * Infinity when it is not waiting for one.
   */
  settleLeft(absolutePath: string): number {
    const left = settleLeft(absolutePath);
    return this.#unwatch === undefined && !this.#cannot && left > 0
      ? left
      : Infinity;
  }

  /** Stops watching (a later start watches anew). */
  stop(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
  }
}
