// Copyright 2026 the @locks/process-lock authors. MIT license.
// The PostgreSQL lock and readers-writer lock, their decorators, who holds
// a lock, and the closing of kept sessions.

import type { LockedDecorator } from "../_core/_decorate.ts";
import type { LockMode } from "../_core/_options.ts";
import type { Hold } from "./_session.ts";
import type { PostgresLockedOptions, PostgresLockOptions } from "./types.ts";
import type { Holds } from "../_core/_holds.ts";
import { closeIdle } from "./_connection.ts";
import type { AcquireOptions } from "../_core/types.ts";
import {
  makeLockDecorator,
  NOT_HELD,
  postgresHolds,
  resolvePostgresOptions,
  runStatement,
} from "./_backend.ts";
import { checkPositive } from "../_core/_options.ts";
import { connectTimeoutOf } from "./_connect.ts";
import { holderOfName, holdersStatement } from "./_sql.ts";
import { checkName, postgresLockKey } from "./types.ts";

/**
 * An exclusive lock shared by every process, on every machine, that uses
 * the same name on the same PostgreSQL database: the counterpart of
 * `InterProcessLock`.
 *
 * Differences from the file locks, since the server is remote:
 * {@linkcode PostgresLock.prototype.release} returns a promise, disposal is
 * `await using`, and {@linkcode PostgresLock.prototype.token} gives a fencing
 * token. `delay` and `maxDelay` are checked as for the file locks but do
 * nothing: the call waits in the server, which wakes it at once.
 *
 * @example Usage
 * ```ts ignore
 * import { PostgresLock } from "@locks/process-lock/postgres";
 *
 * await using lock = new PostgresLock("nightly-backup", {
 *   url: Deno.env.get("DATABASE_URL"),
 * });
 * if (await lock.acquire({ timeout: 5_000 })) {
 *   try {
 *     // Writes to the store carry lock.token; it rejects older tokens.
 *   } finally {
 *     await lock.release();
 *   }
 * }
 * ```
 */
export class PostgresLock implements AsyncDisposable {
  /** The lock name. */
  readonly name: string;
  /** The advisory-lock key of the name. */
  readonly key: bigint;
  #holds: Holds<Hold, Promise<void>>;

  /**
   * Makes a lock object; nothing connects until the first acquire.
   *
   * @param name The lock name: any non-empty string.
   * @param options The server or client, keepalives and logger.
   * @throws {TypeError} If the name or an option is of the wrong type.
   * @throws {RangeError} If a keepalive option is out of range.
   */
  constructor(name: string, options?: PostgresLockOptions) {
    this.name = name;
    [this.key, this.#holds] = postgresHolds(name, options, "lock");
  }

  /**
   * Whether this object holds the lock.
   *
   * @returns True between a successful acquire and the release.
   */
  get acquired(): boolean {
    return this.#holds.writer !== undefined;
  }

  /**
   * The fencing token of the current hold: larger than the token of every
   * earlier holder of this name.
   *
   * @returns The token, or undefined when not held.
   */
  get token(): bigint | undefined {
    return this.#holds.writer?.token;
  }

  /**
   * Aborts when the hold is lost: its lease ran out (no answer from the
   * server: network partition, stalled middlebox, a process paused past the
   * lease) or its session ended (server restart, `pg_terminate_backend`).
   * Work under the lock can stop then, before anyone else can acquire.
   *
   * @returns The current hold's signal; an aborted one when not held.
   */
  get signal(): AbortSignal {
    return this.#holds.writer?.lease.lost.signal ?? NOT_HELD;
  }

  /**
   * Acquires the lock, waiting in the server.
   *
   * @param options When and how long to wait (`timeout: 0` or
   * `blocking: false`: exactly one try).
   * @returns True once held; false when a try failed or the timeout passed.
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} If a time is negative, NaN or infinite.
   * @throws The `signal`'s reason when it aborts the wait; an `Error` if the
   * object was disposed.
   * @throws {PostgresConnectionError} When the server cannot be reached in
   * time, refuses the session, or the session ends during the call.
   * Nothing is left held or open after a throw.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    // As with the file locks, an object is also a mutex: a second acquire
    // waits for the first one's release (on a session of its own).
    return (await this.#holds.acquire("exclusive", options)) !== undefined;
  }

  /**
   * Releases the lock, within min(lease, 5 s).
   *
   * @returns A promise that resolves once the server has let the lock go,
   * or once the connection was destroyed because it could not be told in
   * time (the server then frees the lock when the lease runs out).
   * @throws {Error} If this object does not hold the lock.
   */
  async release(): Promise<void> {
    await this.#holds.release("exclusive", "the lock");
  }

  /**
   * Whether the lock is held and its lease has not run out, by the clock:
   * synchronous, right even when no timer could run.
   *
   * @returns True while the hold is known to be good.
   */
  isValid(): boolean {
    return this.#holds.isValid();
  }

  /**
   * Releases the lock if held, and stops pending acquire calls (they
   * reject).
   *
   * @returns A promise that resolves once everything is let go.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#holds.dispose();
  }
}

/**
 * A readers-writer lock on PostgreSQL: shared advisory locks for readers,
 * an exclusive one for the writer. The counterpart of
 * `InterProcessReaderWriterLock`, with asynchronous releases and
 * `readLock()`/`writeLock()` resolving to an `AsyncDisposable`.
 *
 * @example Usage
 * ```ts ignore
 * import { PostgresReaderWriterLock } from "@locks/process-lock/postgres";
 *
 * const rw = new PostgresReaderWriterLock("cache", {
 *   url: Deno.env.get("DATABASE_URL"),
 * });
 * {
 *   await using _ = await rw.readLock({ timeout: 5_000 });
 *   // ... read while other readers read too ...
 * }
 * ```
 */
export class PostgresReaderWriterLock implements AsyncDisposable {
  /** The lock name. */
  readonly name: string;
  /** The advisory-lock key of the name. */
  readonly key: bigint;
  #holds: Holds<Hold, Promise<void>>;

  /**
   * Makes a lock object; nothing connects until the first acquire.
   *
   * @param name The lock name: any non-empty string.
   * @param options The server or client, keepalives and logger.
   * @throws {TypeError} If the name or an option is of the wrong type.
   * @throws {RangeError} If a keepalive option is out of range.
   */
  constructor(name: string, options?: PostgresLockOptions) {
    this.name = name;
    [this.key, this.#holds] = postgresHolds(name, options, "rwlock");
  }

  /**
   * How many read locks this object holds.
   *
   * @returns The number of read locks held.
   */
  get readers(): number {
    return this.#holds.readers.length;
  }

  /**
   * Whether this object holds the write lock.
   *
   * @returns True while the write lock is held.
   */
  get writing(): boolean {
    return this.#holds.writer !== undefined;
  }

  /**
   * The fencing token of the write lock held.
   *
   * @returns The token, or undefined when the write lock is not held.
   */
  get token(): bigint | undefined {
    return this.#holds.writer?.token;
  }

  /**
   * Aborts when a session carrying a lock of this object ends.
   *
   * @returns The signal of the write lock, or of the last read lock; an
   * aborted one when nothing is held.
   */
  get signal(): AbortSignal {
    const { writer, readers } = this.#holds;
    return (writer ?? readers.at(-1))?.lease.lost.signal ?? NOT_HELD;
  }

  /**
   * Acquires a read lock, shared with other readers.
   *
   * @param options When and how long to wait.
   * @returns True once held; false when a try failed or the timeout passed.
   * @throws The errors of {@linkcode PostgresLock.prototype.acquire}.
   */
  async acquireReadLock(options?: AcquireOptions): Promise<boolean> {
    return (await this.#holds.acquire("shared", options)) !== undefined;
  }

  /**
   * Acquires the write lock, excluding readers and writers.
   *
   * @param options When and how long to wait.
   * @returns True once held; false when a try failed or the timeout passed.
   * @throws The errors of {@linkcode PostgresLock.prototype.acquire}.
   */
  async acquireWriteLock(options?: AcquireOptions): Promise<boolean> {
    return (await this.#holds.acquire("exclusive", options)) !== undefined;
  }

  /**
   * Releases the read lock taken last.
   *
   * @returns A promise that resolves once the server has let it go.
   * @throws {Error} If this object holds no read lock.
   */
  async releaseReadLock(): Promise<void> {
    await this.#holds.release("shared", "a read lock");
  }

  /**
   * Releases the write lock.
   *
   * @returns A promise that resolves once the server has let it go.
   * @throws {Error} If this object does not hold the write lock.
   */
  async releaseWriteLock(): Promise<void> {
    await this.#holds.release("exclusive", "the write lock");
  }

  /**
   * Acquires a read lock for a block: `await using _ = await rw.readLock();`.
   *
   * @param options When and how long to wait.
   * @returns A handle whose disposal releases this read lock.
   * @throws {LockTimeoutError} If the timeout passed, or a try failed.
   */
  readLock(options?: AcquireOptions): Promise<AsyncDisposable> {
    return this.#scoped("shared", options);
  }

  /**
   * Acquires the write lock for a block: `await using _ = await rw.writeLock();`.
   *
   * @param options When and how long to wait.
   * @returns A handle whose disposal releases the write lock.
   * @throws {LockTimeoutError} If the timeout passed, or a try failed.
   */
  writeLock(options?: AcquireOptions): Promise<AsyncDisposable> {
    return this.#scoped("exclusive", options);
  }

  /**
   * Whether this object holds a lock and every session carrying one is
   * alive.
   *
   * @returns True while the held locks are known to be good.
   */
  isValid(): boolean {
    return this.#holds.isValid();
  }

  /**
   * Releases every lock held, and stops pending acquire calls.
   *
   * @returns A promise that resolves once everything is let go.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#holds.dispose();
  }

  async #scoped(
    mode: LockMode,
    options: AcquireOptions | undefined,
  ): Promise<AsyncDisposable> {
    const release = await this.#holds.scoped(mode, options);
    return { [Symbol.asyncDispose]: async () => await release() };
  }
}

/**
 * Holds a {@linkcode PostgresLock} on `name` around every call: the
 * counterpart of `interprocessLocked`. Calls reject with
 * {@linkcode LockTimeoutError} when the lock cannot be had in time.
 *
 * @param name The lock name.
 * @param options The lock's and the acquire options.
 * @returns A wrapper that is also a TC39 method decorator.
 * @throws {TypeError} If the name or an option is of the wrong type.
 * @throws {RangeError} If a time option is out of range.
 *
 * @example Usage
 * ```ts ignore
 * import { postgresLocked } from "@locks/process-lock/postgres";
 *
 * const migrate = postgresLocked("migrations", {
 *   url: Deno.env.get("DATABASE_URL"),
 *   timeout: 60_000,
 * })(async () => {
 *   // ... one host at a time ...
 * });
 * await migrate();
 * ```
 */
export function postgresLocked(
  name: string,
  options?: PostgresLockedOptions,
): LockedDecorator {
  return makeLockDecorator(name, options, "exclusive");
}

/**
 * Holds a read lock of a {@linkcode PostgresReaderWriterLock} on `name`
 * around every call.
 *
 * @param name The lock name.
 * @param options The lock's and the acquire options.
 * @returns A wrapper that is also a TC39 method decorator.
 * @throws {TypeError} If the name or an option is of the wrong type.
 * @throws {RangeError} If a time option is out of range.
 *
 * @example Usage
 * ```ts ignore
 * import { postgresReadLocked } from "@locks/process-lock/postgres";
 *
 * const read = postgresReadLocked("cache")(async () => "cached");
 * await read();
 * ```
 */
export function postgresReadLocked(
  name: string,
  options?: PostgresLockedOptions,
): LockedDecorator {
  return makeLockDecorator(name, options, "shared");
}

/**
 * Holds the write lock of a {@linkcode PostgresReaderWriterLock} on `name`
 * around every call.
 *
 * @param name The lock name.
 * @param options The lock's and the acquire options.
 * @returns A wrapper that is also a TC39 method decorator.
 * @throws {TypeError} If the name or an option is of the wrong type.
 * @throws {RangeError} If a time option is out of range.
 *
 * @example Usage
 * ```ts ignore
 * import { postgresWriteLocked } from "@locks/process-lock/postgres";
 *
 * const refresh = postgresWriteLocked("cache")(async () => "fresh");
 * await refresh();
 * ```
 */
export function postgresWriteLocked(
  name: string,
  options?: PostgresLockedOptions,
): LockedDecorator {
  return makeLockDecorator(name, options, "exclusive");
}

/**
 * Closes the connections that the locks keep for a second after a release
 * for reuse. They never keep a script from exiting; a test that acquires
 * locks with `url` calls this at its end, for the test sanitizers.
 *
 * @returns A promise that resolves once they are closed.
 *
 * @example In a test
 * ```ts
 * import { closeIdleSessions } from "@locks/process-lock/postgres";
 *
 * await closeIdleSessions();
 * ```
 */
export function closeIdleSessions(): Promise<void> {
  return closeIdle();
}

/**
 * One holder of a PostgreSQL lock.
 *
 * @example Usage
 * ```ts
 * import type { PostgresLockHolder } from "@locks/process-lock/postgres";
 *
 * const holder: PostgresLockHolder = {
 *   pid: 1234,
 *   hostname: "worker-1",
 *   since: new Date(),
 *   exclusive: true,
 * };
 * console.log(`held by pid ${holder.pid} on ${holder.hostname}`);
 * ```
 */
export interface PostgresLockHolder {
  /** The holder's process id; undefined for a client of another kind. */
  pid: number | undefined;
  /** Its host name; empty when unknown (or it ran without `--allow-sys`). */
  hostname: string;
  /** When its session started. */
  since: Date;
  /** Whether it holds the lock exclusively (else as a reader). */
  exclusive: boolean;
}

/**
 * Reads who holds the PostgreSQL lock `name`, as the server sees it: every
 * session granted its advisory lock, oldest first. Holders of this library
 * are named by process id and host; a session that dies stops being one at
 * once (the server frees its locks).
 *
 * @param name The lock name, as given to `PostgresLock` (a semaphore's slot
 * `i` is the lock `<name>.<i>`).
 * @param options The server or client, as for the lock; `timeout` bounds
 * the whole call (default: `connectTimeout`).
 * @returns The holders; empty when the lock is free.
 * @throws {TypeError} If the name or an option is of the wrong type.
 * @throws {PostgresConnectionError} When the server cannot be reached or
 * does not answer in time.
 *
 * @example Telling the user who holds a lock
 * ```ts ignore
 * import { readPostgresLockHolders } from "@locks/process-lock/postgres";
 *
 * for (const holder of await readPostgresLockHolders("nightly")) {
 *   console.log(`held by pid ${holder.pid} on ${holder.hostname}`);
 * }
 * ```
 */
export async function readPostgresLockHolders(
  name: string,
  options?: PostgresLockOptions & { timeout?: number },
): Promise<PostgresLockHolder[]> {
  return (await readPostgresLockStatus(name, options)).holders;
}

/**
 * Whether the PostgreSQL lock `name` is held, how, by whom (as
 * {@linkcode readPostgresLockHolders}) and how many sessions wait for it.
 *
 * @example A free lock
 * ```ts
 * import type { PostgresLockStatus } from "@locks/process-lock/postgres";
 *
 * const status: PostgresLockStatus = { held: false, holders: [], waiting: 0 };
 * ```
 */
export interface PostgresLockStatus {
  /** `false` when free, else how it is held. */
  held: false | "shared" | "exclusive";
  /** Every session granted the lock, oldest first. */
  holders: PostgresLockHolder[];
  /** How many sessions wait for it. */
  waiting: number;
}

/**
 * Reads whether the PostgreSQL lock `name` is held, by whom, and how many
 * sessions wait for it, as the server sees it (one query).
 *
 * @param name The lock name, as given to `PostgresLock`.
 * @param options The server or client, as for the lock; `timeout` bounds
 * the whole call (default: `connectTimeout`).
 * @returns The status.
 * @throws {TypeError} If the name or an option is of the wrong type.
 * @throws {PostgresConnectionError} When the server cannot be reached or
 * does not answer in time.
 *
 * @example Usage
 * ```ts ignore
 * import { readPostgresLockStatus } from "@locks/process-lock/postgres";
 *
 * const { held, waiting } = await readPostgresLockStatus("nightly");
 * console.log(held ? `held (${held}), ${waiting} waiting` : "free");
 * ```
 */
export async function readPostgresLockStatus(
  name: string,
  options?: PostgresLockOptions & { timeout?: number },
): Promise<PostgresLockStatus> {
  checkName(name);
  const { timeout, ...rest } = options ?? {};
  const session = resolvePostgresOptions(rest);
  const [bound] = connectTimeoutOf(session, session.url);
  const ms = checkPositive(timeout, "timeout", bound);
  const rows = Array.from(
    await runStatement(
      session,
      "Cannot read the holders of",
      `the PostgreSQL lock "${name}"`,
      holdersStatement(postgresLockKey(name)),
      ms,
    ),
  );
  const holders = rows.filter((row) => row.granted).map((row) => ({
    ...holderOfName(String(row.name)),
    since: new Date(Number(row.since)),
    exclusive: row.exclusive === true,
  }));
  const held = holders.length === 0
    ? false
    : holders[0].exclusive
    ? "exclusive"
    : "shared";
  return { held, holders, waiting: rows.length - holders.length };
}
