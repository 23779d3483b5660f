// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * {@linkcode readLockOwner}: who holds an exclusive lock, for messages such
 * as "held by pid 1234 on host x since ..." when a non-blocking acquire
 * fails.
 *
 * Every exclusive holder (an `InterProcessLock` or a write lock)
 * records its pid, host name and start time in the lock file, in a
 * fixed-size block that is rewritten in place, and only in lock files that
 * this library created: a file that already had other content is never
 * written to. Readers record nothing and so never contend for the record.
 *
 * @example Usage
 * ```ts
 * import { InterProcessLock, readLockOwner } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/job.lock`;
 * using lock = new InterProcessLock(path);
 * await lock.acquire();
 * const owner = readLockOwner(path);
 * assert(owner?.pid === Deno.pid);
 * ```
 *
 * @module
 */

import { toLockPath } from "./_path.ts";
import { readRecord } from "./_owner.ts";
import { explain, tryLockFile } from "./_file.ts";

/**
 * Who holds an exclusive lock, as recorded in its lock file.
 *
 * @example Usage
 * ```ts
 * import { type LockOwner, readLockOwner } from "@locks/process-lock";
 *
 * const owner: LockOwner | null = readLockOwner(await Deno.makeTempFile());
 * if (owner) console.log(`held by pid ${owner.pid} on ${owner.hostname}`);
 * ```
 */
export interface LockOwner {
  /** The holder's process id. */
  pid: number;
  /** The holder's host name; empty when it ran without `--allow-sys=hostname`. */
  hostname: string;
  /**
   * When the holder acquired the lock. A process that takes the lock again
   * while no other process waited for it counts as the same holder and
   * keeps its first time.
   */
  since: Date;
}

/**
 * Reads who holds the exclusive lock on `path`.
 *
 * @param path The lock file: a path or a `file:` URL.
 * @returns The holder, or `null` when no one holds the lock exclusively
 * (it is free, or held by readers), the file does not exist, or it carries
 * no record (a file this library did not create).
 * @throws {TypeError} If the path is not a non-empty string or `file:` URL.
 * @throws A `Deno.errors` error naming the path when the file cannot be
 * read (a directory, no `--allow-read`, ...).
 *
 * @example Telling the user who holds the lock
 * ```ts
 * import { InterProcessLock, readLockOwner } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/job.lock`;
 * using holder = new InterProcessLock(path);
 * await holder.acquire();
 *
 * using lock = new InterProcessLock(path);
 * if (!(await lock.acquire({ blocking: false }))) {
 *   const owner = readLockOwner(path);
 *   const message = owner
 *     ? `held by pid ${owner.pid} on ${owner.hostname} since ${owner.since.toISOString()}`
 *     : "held";
 *   assert(message.startsWith(`held by pid ${Deno.pid}`));
 * }
 * ```
 */
export function readLockOwner(path: string | URL): LockOwner | null {
  const lockPath = toLockPath(path);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(lockPath, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw explain(error, lockPath);
  }
  try {
    const record = readRecord(file);
    if (record === undefined) return null;
    // A shared try succeeds unless someone holds the lock exclusively: then
    // the record is stale.
    if (tryLockFile(file, false)) return null;
    const since = new Date(record.since);
    return {
      pid: record.pid,
      hostname: record.hostname,
      since: Number.isNaN(since.getTime()) ? new Date(0) : since,
    };
  } finally {
    file.close();
  }
}
