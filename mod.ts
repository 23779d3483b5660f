// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * Inter-process locks for Deno: an exclusive lock, a readers-writer lock
 * and decorators, with the API of Python's `fasteners` in TypeScript and
 * times in milliseconds.
 *
 * The kernel lock on a file (`flock(2)` on Linux and macOS, `LockFileEx`
 * on Windows, through `Deno.FsFile.tryLock` and `lock`) does the locking;
 * this module adds non-blocking and blocking acquisition, timeouts,
 * fasteners' backoff, cancellation with an `AbortSignal`, a wait in the
 * kernel when nothing can cancel the call and wake-up on release when
 * something can, arrival order inside one process, a step-aside that keeps
 * a busy process from starving the others, a readers-writer variant,
 * decorators, owner records, and checks that the locked file is still the
 * one at the path. A holder that dies frees its lock with it, so there are
 * no stale lock files: the file is never deleted. The same locks across
 * machines, on PostgreSQL, are in `@locks/process-lock/postgres`.
 *
 * Permissions: `--allow-read` and `--allow-write` for the lock file
 * (`--allow-sys=hostname` optionally, to record the host name of a holder;
 * `--allow-run` lets `readLockOwner()` tell a
 * dead holder's record from a live one).
 *
 * @example Usage
 * ```ts
 * import { InterProcessLock } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/counter.lock`;
 * await using lock = new InterProcessLock(path);
 * assert(await lock.acquire({ timeout: 5000 }));
 * // ... one process at a time updates the shared state here ...
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./lock.ts";
export * from "./rwlock.ts";
export * from "./decorators.ts";
export * from "./owner.ts";
