// Copyright 2026 the @locks/process-lock authors. MIT license.
// The PostgreSQL semaphore (re-exported by postgres/mod.ts): the semaphore
// combinator on advisory locks, its class and its decorator.

import type { LockedDecorator } from "../_core/_decorate.ts";
import { ACQUIRE_KEYS } from "../_core/_options.ts";
import type { Hold } from "./_session.ts";
import { postgresLockKey } from "./types.ts";
import { checkName, type PostgresLockOptions } from "./types.ts";
import type { Backend } from "../_core/_backend.ts";
import { Holds } from "../_core/_holds.ts";
import {
  semaphoreBackend,
  type SlotHold,
  splitSlots,
} from "../_core/_semaphore.ts";
import type { AcquireOptions } from "../_core/types.ts";
import {
  makePostgresDecorator,
  NOT_HELD,
  POSTGRES_KEYS,
  postgresBackend,
  sessionOptionsOf,
} from "./_backend.ts";
import type { SessionOptions } from "./_connect.ts";

/**
 * Options of a {@linkcode PostgresSemaphore}: its number of slots, and the
 * options of a PostgreSQL lock.
 *
 * @example Usage
 * ```ts
 * import type { PostgresSemaphoreOptions } from "@locks/process-lock/postgres";
 *
 * const options: PostgresSemaphoreOptions = { slots: 10, url: "postgres://db/app" };
 * ```
 */
export interface PostgresSemaphoreOptions extends PostgresLockOptions {
  /** How many holders at once, on every host: a whole number from 1. */
  slots: number;
}

/**
 * A semaphore of `slots` slots on `name`: the gate is the advisory lock of
 * `name`, slot i the lock of the name `<name>.<i>`.
 */
function postgresSemaphoreBackend(
  name: string,
  slots: number,
  options: SessionOptions,
): Backend<SlotHold<Hold>, Promise<void>> {
  // Every message names the semaphore, whichever of its locks it is about.
  const lock = `the PostgreSQL semaphore "${name}"`;
  const lockOn = (lockName: string) =>
    postgresBackend(lock, postgresLockKey(lockName), options);
  return semaphoreBackend(
    lockOn(name),
    Array.from({ length: slots }, (_, slot) => lockOn(`${name}.${slot}`)),
  );
}

/**
 * A counting semaphore across processes and machines: at most `slots`
 * holders at once among every client of the same database that uses the
 * same name with the same number of slots. The counterpart of
 * `InterProcessSemaphore`, with each slot held under the lease of a
 * {@linkcode PostgresLock}.
 *
 * Waiters queue in the server on the gate (the advisory lock of `name`);
 * the gate's holder tries the slots (the locks of `<name>.0` to
 * `<name>.<slots - 1>`, see {@linkcode postgresLockKey}) and, when all are
 * taken, waits in the server on every slot at once, one session each, until
 * one is granted. Holders show in `pg_locks` under the slots' keys: slot i's
 * key is, in SQL,
 * `('x' || left(encode(sha256(convert_to(name || '.' || i, 'UTF8')), 'hex'), 16))::bit(64)::bigint`.
 * Clients
 * that disagree on `slots` never let in more holders than the largest
 * number in use. The gate's holder uses `slots + 1` sessions while it
 * waits.
 *
 * @example Usage
 * ```ts ignore
 * import { PostgresSemaphore } from "@locks/process-lock/postgres";
 *
 * await using scrapers = new PostgresSemaphore("api-scrapers", {
 *   slots: 10,
 *   url: Deno.env.get("DATABASE_URL"),
 * });
 * if (await scrapers.acquire({ timeout: 60_000 })) {
 *   try {
 *     // ... at most 10 of these run at once across the fleet ...
 *   } finally {
 *     await scrapers.release();
 *   }
 * }
 * ```
 */
export class PostgresSemaphore implements AsyncDisposable {
  /** The semaphore's name. */
  readonly name: string;
  /** How many holders at once. */
  readonly slots: number;
  #holds: Holds<SlotHold<Hold>, Promise<void>>;

  /**
   * Makes a semaphore object; nothing connects until the first acquire.
   *
   * @param name The name: any non-empty string.
   * @param options The number of slots, the server or client, the lease,
   * keepalives and logger.
   * @throws {TypeError} If the name or an option is of the wrong type, or
   * `slots` is missing.
   * @throws {RangeError} If `slots` or another option is out of range.
   */
  constructor(name: string, options: PostgresSemaphoreOptions) {
    checkName(name);
    const [slots, rest] = splitSlots(
      options,
      "PostgreSQL semaphore options",
      [...POSTGRES_KEYS, "slots"],
    );
    this.name = name;
    this.slots = slots;
    const backend = postgresSemaphoreBackend(
      name,
      slots,
      sessionOptionsOf(rest),
    );
    this.#holds = new Holds(backend, name, "semaphore");
  }

  /**
   * Whether this object holds a slot.
   *
   * @returns True between a successful acquire and the release.
   */
  get acquired(): boolean {
    return this.#holds.writer !== undefined;
  }

  /**
   * Which slot this object holds.
   *
   * @returns The slot, from 0 to `slots - 1`; undefined when none is held.
   */
  get slot(): number | undefined {
    return this.#holds.writer?.slot;
  }

  /**
   * Aborts when the slot held is lost (its lease ran out or its session
   * ended), as {@linkcode PostgresLock.prototype.signal}.
   *
   * @returns The current hold's signal; an aborted one when not held.
   */
  get signal(): AbortSignal {
    return this.#holds.writer?.hold.lease.lost.signal ?? NOT_HELD;
  }

  /**
   * Acquires a slot, waiting in the server.
   *
   * @param options When and how long to wait.
   * @returns True once a slot is held; false when a try failed or the
   * timeout passed.
   * @throws The errors of {@linkcode PostgresLock.prototype.acquire}.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    return (await this.#holds.acquire("exclusive", options)) !== undefined;
  }

  /**
   * Releases the slot held, within min(lease, 5 s).
   *
   * @returns A promise that resolves once the slot is let go.
   * @throws {Error} If this object holds no slot.
   */
  async release(): Promise<void> {
    await this.#holds.release("exclusive", "the slot");
  }

  /**
   * Whether a slot is held and its lease has not run out.
   *
   * @returns True while the slot is known to be held.
   */
  isValid(): boolean {
    return this.#holds.isValid();
  }

  /**
   * Releases the slot if held, and stops pending acquire calls.
   *
   * @returns A promise that resolves once everything is let go.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#holds.dispose();
  }
}

/**
 * Holds a slot of a {@linkcode PostgresSemaphore} on `name` around every
 * call: at most `slots` calls run at once across every host. Calls reject
 * with {@linkcode LockTimeoutError} when no slot can be had in time.
 *
 * @param name The semaphore's name.
 * @param options The number of slots, the lock's and the acquire options.
 * @returns A wrapper that is also a TC39 method decorator.
 * @throws {TypeError} If the name or an option is of the wrong type.
 * @throws {RangeError} If `slots` or a time option is out of range.
 *
 * @example Usage
 * ```ts ignore
 * import { postgresSemaphoreLocked } from "@locks/process-lock/postgres";
 *
 * const scrape = postgresSemaphoreLocked("api-scrapers", { slots: 10 })(
 *   async (url: string) => await fetch(url),
 * );
 * ```
 */
export function postgresSemaphoreLocked(
  name: string,
  options: PostgresSemaphoreOptions & AcquireOptions,
): LockedDecorator {
  const [slots, rest] = splitSlots(options, "PostgreSQL decorator options", [
    ...POSTGRES_KEYS,
    ...ACQUIRE_KEYS,
    "slots",
  ]);
  return makePostgresDecorator(
    name,
    rest,
    "exclusive",
    (session) => postgresSemaphoreBackend(name, slots, session),
  );
}
