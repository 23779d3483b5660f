// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * Inter-process locks for Deno: an exclusive lock, a readers-writer lock
 * and decorators, with the API of Python's `fasteners` in TypeScript and
 * times in milliseconds.
 *
 * The kernel lock on a file (`flock(2)` on Linux and macOS, `LockFileEx`
 * on Windows, through `Deno.FsFile.tryLock`) does the locking; this module
 * adds non-blocking and blocking acquisition, timeouts, fasteners' backoff,
 * cancellation with an `AbortSignal`, wake-up as soon as a holder releases,
 * turns between processes (a small waiter queue kept in the lock file), a
 * readers-writer variant, decorators, and checks that the locked file is
 * still the one at the path. A holder that dies frees its lock with it, so
 * there are no stale lock files: the file is never deleted.
 *
 * Permissions: `--allow-read` and `--allow-write` for the lock file
 * (`--allow-sys=hostname` optionally, to record the host name of a holder;
 * on Linux it also lets a waiter on a holder of this library poll seldom).
 *
 * @example Usage
 * ```ts
 * import { InterProcessLock } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/counter.lock`;
 * await using lock = new InterProcessLock(path);
 * assert(await lock.acquire({ timeout: 5000 }));
 * // ... one process at a time updates the shared state here ...
 * ```
 *
 * @module
 */

export * from "./lock.ts";
export * from "./rwlock.ts";
export * from "./decorators.ts";
export * from "./owner.ts";
