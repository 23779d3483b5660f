// Copyright 2026 the @locks/process-lock authors. MIT license.
// What the Web Locks API managers of both backends share: the shapes of
// `navigator.locks` with this project's extensions, and their base class.

/** How a lock is held: `"exclusive"` (one holder) or `"shared"` (many). */
export type WebLockMode = "exclusive" | "shared";

/**
 * The options of `request()`, as in the Web Locks API.
 *
 * @example Waiting at most five seconds for a shared lock
 * ```ts
 * import type { LockRequestOptions } from "@locks/process-lock";
 *
 * const options: LockRequestOptions = {
 *   mode: "shared",
 *   signal: AbortSignal.timeout(5_000),
 * };
 * ```
 */
export interface LockRequestOptions {
  /**
   * `"exclusive"` or `"shared"`.
   *
   * @default {"exclusive"}
   */
  mode?: WebLockMode;
  /**
   * Calls the callback with `null` at once when the lock cannot be granted
   * now, instead of waiting.
   *
   * @default {false}
   */
  ifAvailable?: boolean;
  /**
   * Takes the lock from its holders (their `request()` rejects with an
   * `AbortError`), then grants it: see the manager's documentation for
   * what each backend can take from another process.
   *
   * @default {false}
   */
  steal?: boolean;
  /** Aborting it gives up a pending request (not one already granted). */
  signal?: AbortSignal;
}

/**
 * The lock passed to a `request()` callback: the Web Locks API's `Lock`
 * (`name`, `mode`), with `signal` and, on PostgreSQL, `token`.
 *
 * @example Reading a granted lock
 * ```ts
 * import { FileLockManager, type GrantedLock } from "@locks/process-lock";
 *
 * const dir = await Deno.makeTempDir();
 * const locks = new FileLockManager({ dir });
 * await locks.request("job", (lock: GrantedLock | null) => {
 *   if (lock?.signal.aborted) throw lock.signal.reason;
 * });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface GrantedLock {
  /** The name the lock was requested under. */
  readonly name: string;
  /** How it is held. */
  readonly mode: WebLockMode;
  /**
   * Aborts when the lock is lost before the callback's promise settles
   * (stolen, or on PostgreSQL a lost lease or session).
   */
  readonly signal: AbortSignal;
  /** On PostgreSQL, the exclusive hold's fencing token; else undefined. */
  readonly token: bigint | undefined;
}

/**
 * One request, as `query()` lists it: the Web Locks API's `LockInfo`.
 *
 * @example A held lock
 * ```ts
 * import type { LockInfo } from "@locks/process-lock";
 *
 * const info: LockInfo = { name: "job", mode: "exclusive", clientId: "1234@host/1" };
 * ```
 */
export interface LockInfo {
  /** The lock's name. */
  name: string;
  /** The mode requested or held. */
  mode: WebLockMode;
  /** The manager that made the request (one per manager object). */
  clientId: string;
}

/**
 * What `query()` answers: the Web Locks API's `LockManagerSnapshot`.
 *
 * @example An empty snapshot
 * ```ts
 * import type { LockSnapshot } from "@locks/process-lock";
 *
 * const snapshot: LockSnapshot = { held: [], pending: [] };
 * ```
 */
export interface LockSnapshot {
  /** Locks held now. */
  held: LockInfo[];
  /** Requests waiting now. */
  pending: LockInfo[];
}

/**
 * The callback of `request()`: runs while the lock is held (or with `null`
 * when `ifAvailable` found it taken); the lock is released when the
 * promise it returns settles.
 *
 * @example A callback
 * ```ts
 * import type { LockGrantedCallback } from "@locks/process-lock";
 *
 * const callback: LockGrantedCallback<string> = (lock) => lock?.name ?? "busy";
 * ```
 */
export type LockGrantedCallback<T> = (
  lock: GrantedLock | null,
) => T | PromiseLike<T>;

/** What a manager's engine does: the requests and the query of one
 * manager object, whatever the backend. */
export interface LockManagerEngine {
  /** The manager's id in `query()`. */
  readonly clientId: string;
  /** `request(name, [options], callback)`. */
  request(name: string, ...rest: unknown[]): Promise<unknown>;
  /** `query()`. */
  query(): Promise<LockSnapshot>;
}

/**
 * The Web Locks API's `LockManager` (`navigator.locks`) across processes:
 * the base of `FileLockManager` and `PostgresLockManager`, whose
 * documentation says how each backend keeps the rules.
 *
 * @example Code written for any manager
 * ```ts
 * import { FileLockManager, type LockManager } from "@locks/process-lock";
 *
 * async function migrate(locks: LockManager): Promise<string> {
 *   return await locks.request("db-migrate", () => "migrated");
 * }
 * const dir = await Deno.makeTempDir();
 * console.log(await migrate(new FileLockManager({ dir })));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LockManager {
  /** This manager's id in `query()`: its pid, host and number. */
  readonly clientId: string;
  #engine: LockManagerEngine;

  /**
   * Makes a manager over its backend's engine.
   *
   * @param engine The requests and query of the backend.
   */
  protected constructor(engine: LockManagerEngine) {
    this.#engine = engine;
    this.clientId = engine.clientId;
  }

  /**
   * Requests the lock `name` and runs `callback` while it is held.
   *
   * @param name The lock's name: any string not starting with `-`.
   * @param callback Runs with the lock; its result is `request()`'s.
   * @returns What the callback returned, once the lock was released.
   * @throws {TypeError} A missing callback (the promise rejects).
   */
  request<T>(name: string, callback: LockGrantedCallback<T>): Promise<T>;
  /**
   * Requests the lock `name` as `options` say, and runs `callback` while it
   * is held (or with `null` when `ifAvailable` found it taken).
   *
   * @param name The lock's name: any string not starting with `-`.
   * @param options `mode`, `ifAvailable`, `steal`, `signal`.
   * @param callback Runs with the lock; its result is `request()`'s.
   * @returns What the callback returned, once the lock was released.
   * @throws {TypeError} A missing callback or an unknown mode (the promise
   * rejects, as every error here).
   * @throws {DOMException} `NotSupportedError` for options that exclude each
   * other, or a `steal` the backend cannot do; `signal.reason` when aborted
   * while pending; an `AbortError` when the hold was lost or stolen.
   * @throws {Error} A `PostgresConnectionError` when the server cannot be
   * reached (PostgreSQL).
   */
  request<T>(
    name: string,
    options: LockRequestOptions,
    callback: LockGrantedCallback<T>,
  ): Promise<T>;
  request(name: string, ...rest: unknown[]): Promise<unknown> {
    return this.#engine.request(name, ...rest);
  }

  /**
   * Lists the locks held and the requests pending, of this manager and of
   * every process (and host) that shares its directory or database.
   *
   * @returns `{ held, pending }`, each a list of `{ name, mode, clientId }`.
   */
  query(): Promise<LockSnapshot> {
    return this.#engine.query();
  }
}
