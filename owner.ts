// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * {@linkcode readLockOwner}: who holds an exclusive lock, for messages such
 * as "held by pid 1234 on host x since ..." when a non-blocking acquire
 * fails; {@linkcode readLockStatus}: whether a lock is held, how, by whom
 * and whether a process waits (the command line's `--status`).
 *
 * Every exclusive holder (an `InterProcessLock` or a write lock)
 * records its pid, host name and start time in the lock file when it takes
 * the lock, and empties the record when it releases it, in a fixed-size
 * block that is rewritten in place, and only in lock files that this library
 * created: a file that already had other content is never written to.
 * Readers record nothing.
 *
 * A holder that died keeps its record, while the kernel frees its lock. So
 * a record only counts while someone holds the lock exclusively, and, for a
 * holder on this machine, while its process is alive (checked with
 * `--allow-run`; Deno 2 allows reading `/proc` only with `--allow-all`).
 * What remains: without `--allow-run`, a holder of another tool (such as
 * `flock(1)`) that took the lock after a holder of this library died is
 * reported as that dead holder; and a pid that the system has since reused
 * for another process counts as alive.
 *
 * @example Usage
 * ```ts
 * import { InterProcessLock, readLockOwner } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/job.lock`;
 * using lock = new InterProcessLock(path);
 * await lock.acquire();
 * const owner = readLockOwner(path);
 * assert(owner?.pid === Deno.pid);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { toLockPath } from "./_file/_options.ts";
import process from "node:process";
import {
  MARK_TTL_MS,
  type OwnerFields,
  readMark,
  readOwner,
} from "./_file/_record.ts";
import { hostname } from "./_core/_host.ts";
import { lockFileError } from "./_file/_errors.ts";
import { closeLockFile, tryLockFile } from "./_file/_lock_file.ts";

/**
 * Who holds an exclusive lock, as recorded in its lock file.
 *
 * @example Usage
 * ```ts
 * import { type LockOwner, readLockOwner } from "@locks/process-lock";
 *
 * const path = await Deno.makeTempFile();
 * const owner: LockOwner | null = readLockOwner(path);
 * if (owner) {
 *   // The host name is empty when the holder ran without --allow-sys.
 *   const host = owner.hostname ? ` on ${owner.hostname}` : "";
 *   console.log(`held by pid ${owner.pid}${host}`);
 * }
 * await Deno.remove(path);
 * ```
 */
export interface LockOwner {
  /** The holder's process id. */
  pid: number;
  /** The holder's host name; empty when it ran without `--allow-sys=hostname`. */
  hostname: string;
  /** When the holder acquired the lock. */
  since: Date;
}

/**
 * Reads who holds the exclusive lock on `path`.
 *
 * @param path The lock file: a path or a `file:` URL.
 * @returns The holder, or `null` when no one holds the lock exclusively
 * (it is free, or held by readers), the file does not exist, it carries no
 * record (a file this library did not create, or a holder of another tool),
 * or the recorded process of this machine is known to be dead.
 * @throws {TypeError} If the path is not a non-empty string or `file:` URL.
 * @throws A `Deno.errors` error naming the path when the file cannot be
 * read (a directory, no `--allow-read`, ...).
 *
 * @example Telling the user who holds the lock
 * ```ts
 * import { InterProcessLock, readLockOwner } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/job.lock`;
 * using holder = new InterProcessLock(path);
 * await holder.acquire();
 *
 * using lock = new InterProcessLock(path);
 * if (!(await lock.acquire({ blocking: false }))) {
 *   const owner = readLockOwner(path);
 *   const message = owner
 *     ? `held by pid ${owner.pid}${
 *       owner.hostname ? ` on ${owner.hostname}` : ""
 *     } since ${owner.since.toISOString()}`
 *     : "held";
 *   assert(message.startsWith(`held by pid ${Deno.pid}`));
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function readLockOwner(path: string | URL): LockOwner | null {
  const lockPath = toLockPath(path);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(lockPath, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw lockFileError(error, lockPath);
  }
  try {
    let record: OwnerFields | undefined;
    try {
      record = readOwner(file);
    } catch (error) {
      throw lockFileError(error, lockPath);
    }
    if (record === undefined) return null;
    // A shared try succeeds unless someone holds the lock exclusively: then
    // the record is stale.
    if (tryLockFile(file, "shared")) return null;
    // Left by a holder that died, while another tool holds the lock now.
    const here = hostname();
    const local = record.hostname === here ||
      (record.hostname === "" && here === "");
    if (local && isProcessAlive(record.pid) === false) return null;
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

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Whether process `pid` of this machine is alive, through `kill(pid, 0)`
 * with `--allow-run`. (Deno 2 lets nothing short of `--allow-all` read
 * `/proc`, so there is no other way.)
 *
 * @returns true or false, or undefined when it cannot be told.
 */
function isProcessAlive(pid: number): boolean | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (!granted({ name: "run" })) return undefined;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * One holder of a lock file, as {@linkcode readLockStatus} finds it.
 *
 * @example A holder
 * ```ts
 * import type { LockHolder } from "@locks/process-lock";
 *
 * const holder: LockHolder = { pid: 1234, hostname: "", since: undefined, exclusive: false };
 * ```
 */
export interface LockHolder {
  /** Its process id. */
  pid: number;
  /** Its host name; empty when unknown. */
  hostname: string;
  /** When it took the lock, when recorded (exclusive holders only). */
  since: Date | undefined;
  /** Whether it holds the lock exclusively (else as a reader). */
  exclusive: boolean;
}

/**
 * Whether a lock file is held, how, by whom and whether someone waits.
 *
 * @example A free lock
 * ```ts
 * import type { LockStatus } from "@locks/process-lock";
 *
 * const status: LockStatus = { held: false, holders: [], waiting: 0 };
 * ```
 */
export interface LockStatus {
  /** `false` when free, else how it is held. */
  held: false | "shared" | "exclusive";
  /**
   * The holders known: on Linux with the right to read `/proc/locks`
   * (`--allow-all`), every holder of this host, readers included; else the
   * exclusive holder's owner record only.
   */
  holders: LockHolder[];
  /** 1 when a waiting mark says a process of this library waits (the file
   * tells no more), else 0. */
  waiting: number;
}

/**
 * Reads whether the lock on `path` is held and by whom, without waiting.
 * To tell, it tries the lock for a moment (a shared try, then an
 * exclusive one when that succeeded), as `flock -n` would.
 *
 * @param path The lock file: a path or a `file:` URL.
 * @returns The status; a missing file is a free lock.
 * @throws {TypeError} If the path is not a non-empty string or `file:` URL.
 * @throws A `Deno.errors` error naming the path when the file cannot be
 * read.
 *
 * @example Usage
 * ```ts
 * import { InterProcessLock, readLockStatus } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/job.lock`;
 * using lock = new InterProcessLock(path);
 * await lock.acquire();
 * assert.equal(readLockStatus(path).held, "exclusive");
 * lock.release();
 * assert.equal(readLockStatus(path).held, false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function readLockStatus(path: string | URL): LockStatus {
  const lockPath = toLockPath(path);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(lockPath, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { held: false, holders: [], waiting: 0 };
    }
    throw lockFileError(error, lockPath);
  }
  try {
    const held = heldHow(file);
    const mark = held ? readMark(file) : null;
    const waiting = mark && Date.now() - mark.at < MARK_TTL_MS ? 1 : 0;
    const owner = held === "exclusive" ? readLockOwner(lockPath) : null;
    const holders = held ? kernelHolders(file, owner) : [];
    if (holders.length === 0 && owner !== null) {
      holders.push({ ...owner, exclusive: true });
    }
    return { held, holders, waiting };
  } finally {
    closeLockFile(file);
  }
}

/** How the lock on `file` is held, by a shared try, then an exclusive one. */
function heldHow(file: Deno.FsFile): LockStatus["held"] {
  if (!tryLockFile(file, "shared")) return "exclusive";
  file.unlockSync();
  if (!tryLockFile(file, "exclusive")) return "shared";
  file.unlockSync();
  return false;
}

/**
 * The holders of `file`'s lock that `/proc/locks` lists (Linux, with the
 * right to read it); the owner record gives the exclusive holder's start.
 */
function kernelHolders(
  file: Deno.FsFile,
  owner: LockOwner | null,
): LockHolder[] {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/locks");
  } catch {
    return [];
  }
  const { ino } = file.statSync();
  const here = hostname();
  const holders: LockHolder[] = [];
  for (const line of text.split("\n")) {
    const m = /^\d+: FLOCK\s+\S+\s+(READ|WRITE)\s+(\d+) \S+:\S+:(\d+) /
      .exec(line);
    if (m === null || Number(m[3]) !== ino) continue;
    const exclusive = m[1] === "WRITE";
    const pid = Number(m[2]);
    const since = exclusive && owner?.pid === pid ? owner.since : undefined;
    holders.push({ pid, hostname: here, since, exclusive });
  }
  return holders;
}
