// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * {@linkcode FileLockManager}: the Web Locks API (`navigator.locks`) across
 * the processes of one host, on lock files. Code written for
 * `navigator.locks` scales out by swapping one object; the same API across
 * machines is `PostgresLockManager` in `@locks/process-lock/postgres`.
 *
 * ## The rules
 *
 * - **In one manager** the spec's rules hold exactly: one queue per name,
 *   first come first served; adjacent shared requests are granted
 *   together; a queued exclusive request holds back the shared ones behind
 *   it. A request's lock is held until its callback's promise settles;
 *   `request()` then resolves with the callback's result (or rejects with
 *   what it threw) after the release.
 * - **Across processes** (and managers): each name is a lock file in the
 *   directory, `<the name's first 40 characters>.<hash>.lock` (a hash of
 *   the whole name, so two names never share a file and none leaves the
 *   directory), taken as `InterProcessReaderWriterLock` takes it: the
 *   kernel decides, with this project's fairness (a waiting process is not
 *   starved; a waiting writer comes before new readers). A holder that dies
 *   frees its locks at once.
 * - `ifAvailable` calls back with `null` when this manager or another
 *   process holds the lock. `signal` gives up a pending request and leaves
 *   nothing behind; an abort after the grant does nothing.
 * - `steal` takes the lock from the holders of this manager (their
 *   `request()` rejects with an `AbortError` and their `lock.signal`
 *   aborts). The kernel lets no process take a lock from another: against
 *   a lock held by another process, `steal` rejects with a
 *   `NotSupportedError` that says so. On PostgreSQL it works across
 *   processes.
 * - `query()` lists this manager's requests in request order, then those
 *   of every other manager using the directory: each manager writes its
 *   requests to a file of its own in `<dir>/.clients/` (at most 5 ms after
 *   a change, so a request shorter than that costs no write) and keeps that
 *   file locked while it has requests; `query()` reads every file there
 *   whose lock is held (one open, one try of the lock and one read each),
 *   and removes those whose manager died. So what it shows of other
 *   processes is up to 5 ms old, and a killed process shows nothing.
 *
 * Names starting with `-` are reserved by the spec (`NotSupportedError`).
 *
 * @example Usage
 * ```ts
 * import { FileLockManager } from "@locks/process-lock/locks";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const locks = new FileLockManager({ dir });
 * const answer = await locks.request("db-migrate", async (lock) => {
 *   assert.equal(lock?.mode, "exclusive");
 *   return 42;
 * });
 * assert.equal(answer, 42);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { LockManagerCore } from "./_core/_manager.ts";
import { checkObject, describe } from "./_core/_options.ts";
import type { Logger } from "./_core/types.ts";
import { LockManager } from "./_core/web_locks.ts";
import { defaultLockDir, fileManagerBackend } from "./_file/_manager.ts";
import { newClientId } from "./_core/_host.ts";
import { resolveLockOptions, toLockPath } from "./_file/_options.ts";

export * from "./_core/web_locks.ts";

/**
 * Options of a {@linkcode FileLockManager}.
 *
 * @example A directory of one's own
 * ```ts
 * import type { FileLockManagerOptions } from "@locks/process-lock";
 *
 * const options: FileLockManagerOptions = { dir: "/var/lock/myapp" };
 * ```
 */
export interface FileLockManagerOptions {
  /**
   * The directory of the lock files: the processes that use the same one
   * share its locks. It is created when missing.
   *
   * @default {`/tmp/process-lock-<uid>` (one per user on this host)}
   */
  dir?: string | URL;
  /** Hears each attempt and each wait at debug level. */
  logger?: Logger;
}

/**
 * The Web Locks API (`navigator.locks`) across processes, on lock files:
 * see the module documentation for the rules.
 *
 * @example Exclusive, shared and a try
 * ```ts
 * import { FileLockManager } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const locks = new FileLockManager({ dir });
 * await locks.request("cache", { mode: "shared" }, async (lock) => {
 *   const busy = await locks.request("cache", { ifAvailable: true }, (l) => l);
 *   assert.equal(busy, null); // an exclusive request must wait
 *   assert.equal(lock?.mode, "shared");
 * });
 * const { held, pending } = await locks.query();
 * assert.deepEqual([held, pending], [[], []]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileLockManager extends LockManager {
  /** The directory of the lock files. */
  readonly dir: string;

  /**
   * Makes a manager of the locks in a directory.
   *
   * @param options The directory, and a logger.
   * @throws {TypeError} If an option is of the wrong type, or the default
   * directory is used without `--allow-sys=uid`.
   */
  constructor(options?: FileLockManagerOptions) {
    const { dir, logger } = checkObject(
      options,
      "FileLockManager options",
      ["dir", "logger"],
    );
    if (dir !== undefined && typeof dir !== "string" && !(dir instanceof URL)) {
      throw new TypeError(
        `Option "dir" must be a string or a file: URL, got ${describe(dir)}`,
      );
    }
    const path = dir === undefined ? defaultLockDir() : toLockPath(dir);
    const clientId = newClientId();
    const lockOptions = resolveLockOptions({ logger });
    const backend = fileManagerBackend(path, clientId, lockOptions);
    super(new LockManagerCore(backend, clientId));
    this.dir = path;
  }
}
