// Copyright 2026 the @locks/process-lock authors. MIT license.
// Wake-up on release: one file-system watcher per lock path per process,
// shared by all of that path's waiters and closed when the last one leaves.
// Closing a lock file that was open for writing raises an event, so a
// release anywhere on the machine wakes the waiters at once. Correctness
// never depends on it: waiters keep their backoff timer as the fallback.

type Logger = { debug(...data: unknown[]): void } | undefined;

interface SharedWatcher {
  watcher: Deno.FsWatcher;
  listeners: Set<(kind: Deno.FsEvent["kind"]) => void>;
  /** The watched file's "device:inode", when known for sure. */
  file: string | undefined;
}

/** A file's "device:inode" at `path`, or undefined. Never throws. */
function fileIdAt(path: string): string | undefined {
  try {
    const info = Deno.statSync(path);
    return `${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}

const watchers = new Map<string, SharedWatcher>();

/**
 * Calls `listener` with the kind of every file-system event on `path` until
 * the returned function is called. Where watching is impossible (no read
 * permission, no inotify instances left, a file system without events) it
 * logs why and returns undefined: the caller's polling still works.
 */
export function watchLockFile(
  path: string,
  listener: (kind: Deno.FsEvent["kind"]) => void,
  logger: Logger,
): (() => void) | undefined {
  let shared = watchers.get(path);
  if (shared === undefined) {
    let watcher: Deno.FsWatcher;
    // The inode is watched, not the path: note which one, sure only when
    // the path named the same file before and after.
    const before = fileIdAt(path);
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
    const after = fileIdAt(path);
    const created: SharedWatcher = {
      watcher,
      listeners: new Set(),
      file: before === after ? after : undefined,
    };
    shared = created;
    watchers.set(path, created);
    pump(path, created, logger);
  }
  const entry = shared;
  entry.listeners.add(listener);
  return () => {
    if (!entry.listeners.delete(listener) || entry.listeners.size > 0) return;
    if (watchers.get(path) === entry) watchers.delete(path);
    try {
      entry.watcher.close();
    } catch {
      // Already closed by a failure in pump().
    }
  };
}

async function pump(
  path: string,
  shared: SharedWatcher,
  logger: Logger,
): Promise<void> {
  try {
    for await (const event of shared.watcher) {
      for (const listener of shared.listeners) listener(event.kind);
    }
  } catch (error) {
    logger?.debug(
      `Watching "${path}" failed (${
        error instanceof Error ? error.message : String(error)
      }); waiting by polling`,
    );
    if (watchers.get(path) === shared) watchers.delete(path);
    try {
      shared.watcher.close();
    } catch {
      // Already closed.
    }
  }
}

/**
 * The "device:inode" of the file that the watcher of `path` watches, or
 * undefined when nothing watches it or the file is not known for sure.
 */
export function watchedFile(path: string): string | undefined {
  return watchers.get(path)?.file;
}
