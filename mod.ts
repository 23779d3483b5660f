// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * Inter-process locks for Deno: an exclusive lock, a readers-writer lock,
 * a counting semaphore ({@linkcode InterProcessSemaphore}: at most N holders
 * at once) and decorators, with the API of Python's `fasteners` in
 * TypeScript and times in milliseconds; the Web Locks API
 * (`navigator.locks`) across processes, {@linkcode FileLockManager}; and,
 * with Deno's OpenTelemetry on, every wait and hold in your traces
 * (`telemetry.ts`).
 *
 * The kernel lock on a file (`flock(2)` on Linux and macOS, `LockFileEx`
 * on Windows, through `Deno.FsFile.tryLock`) does the locking.
 * A holder that dies frees its lock with it, so there are no stale lock
 * files: the file is never deleted. The same locks across machines, on
 * PostgreSQL, are in `@locks/process-lock/postgres`.
 *
 * Permissions: `--allow-read` and `--allow-write` for the lock file
 * (`--allow-sys=hostname` optionally, to record the host name of a holder;
 * `--allow-run` lets `readLockOwner()` tell a dead holder's record from a
 * live one).
 *
 * ## How a call waits
 *
 * - A blocking call watches the lock file (`Deno.watchFs`: a release
 *   closes the file, which wakes it) and tries again after fasteners'
 *   backoff (`delay`, growing by `delay` per failed try, capped at
 *   `maxDelay`), the safety net for releases that make no event (another
 *   tool, file systems without events). It never sleeps past its timeout,
 *   and makes one last try when the time is up.
 * - It never waits in the kernel (`FsFile.lock()`): nothing can interrupt
 *   that wait, so a call given up (its signal, its object disposed) would
 *   keep the process alive until the other holder let go. Watching costs
 *   about 0.5 ms more per hand-off between processes, and up to one backoff
 *   step when a process waits again within 50 ms of its last wait
 *   (`bench/RESULTS.md`).
 * - Inside one process, waiting calls get the lock in arrival order: only
 *   the first waits on the file, and a release in the process wakes it.
 *
 * ## Fairness between processes
 *
 * The kernel alone lets a busy process starve the others. So a waiting
 * process keeps a **waiting mark** in the lock file ("a process waits, as
 * of time T", renewed every 2 s, counted for 5 s, cleared when it wins or
 * gives up), and a process that has kept the lock for a streak of 5 ms
 * reads it at its release: if another process waits, it steps aside for
 * 2 ms. `timeout: 0` and `blocking: false` always try. Lock files made by
 * other tools carry no mark: there the kernel's behaviour applies.
 *
 * Writers come first: a waiting writer's mark says so, and a reader of
 * another process that finds it lets go of the read lock it just took and
 * waits, so that overlapping readers cannot starve a writer; readers already in finish. A reader
 * defers for 5 s at most in one call, so no reader starves either. Inside
 * one process, arrival order rules. Readers of other tools (`flock -s`)
 * know nothing of the mark.
 *
 * ## The lock file
 *
 * - Its parent directories are created when missing. It is opened for
 *   reading and writing, never truncated and **never deleted** (deleting a
 *   lock file others may use is how two holders end up with one lock). A
 *   dangling symbolic link at the path is refused.
 * - After taking the lock, the library checks that the path still names
 *   the file it locked (device and inode); if the file was deleted or
 *   replaced, it drops that lock and locks the file that is there now. A
 *   holder can ask `isValid()`.
 * - A file this library creates starts with a 256-byte block: a magic line,
 *   the waiting mark and the owner record (see `readLockOwner`). The magic
 *   is checked before every write, so a file with content of its own, or
 *   one another tool rewrites later, is never modified.
 * - Use a dedicated lock file, not the data file itself.
 *
 * ## Platforms and file systems
 *
 * - Linux and macOS: `flock(2)`; `flock(1)` and this library see each
 *   other's locks. macOS reports events through FSEvents, which may miss a
 *   close: waiters then find the release by their backoff.
 * - Windows: `LockFileEx`. Its locks are mandatory, so **the lock file must
 *   not be the data file**; waiters cannot write to a held file, so they
 *   leave no waiting mark and a busy process does not step aside for them.
 * - NFS: Linux clients map `flock` to byte-range locks that the server
 *   enforces, but events do not cross the network: waiters poll.
 * - Where watching fails (no events, inotify limits), it is logged at debug
 *   level and waiters poll with the backoff. Every layer over the kernel
 *   lock (wake-up, same-file check, owner record) degrades this way: the
 *   lock itself still holds.
 *
 * ## Where it differs from fasteners
 *
 * - Milliseconds and camelCase option names; acquiring is async, releasing
 *   synchronous; an unknown option key is a `TypeError`.
 * - Two lock objects on one file in one process exclude each other, and so
 *   do concurrent `acquire()` calls on one object (an async mutex).
 * - `timeout` must be finite (omit it to wait forever) and pauses are at
 *   least 1 ms, so `delay: 0` does not spin.
 * - The decorators and `readLock()`/`writeLock()` take the acquire options
 *   and throw `LockTimeoutError` when they cannot get the lock.
 * - No lock upgrade or downgrade: a write lock asked for while the same
 *   object holds a read lock waits for that read lock's release.
 *
 * ## Where the code lives
 *
 * The root holds the public entry points. `_core/` is what every lock object
 * is made of, whatever the backend (the `Backend` seam, `Holds`, the
 * decorator and semaphore combinators, option checks, the shared types);
 * `_file/` everything that touches a lock file; `_cli/` the command line's
 * parsing; `postgres/` the PostgreSQL backend, laid out like the root. A
 * name starting with `_` is private. `tests/layers_test.ts` keeps the core
 * free of backends and the backends apart.
 *
 * Measured costs, beside the raw Deno primitive: `bench/RESULTS.md` in the
 * repository.
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
export * from "./semaphore.ts";
export * from "./decorators.ts";
export * from "./owner.ts";
export * from "./locks.ts";
export * from "./telemetry.ts";
