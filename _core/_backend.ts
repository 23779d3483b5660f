// Copyright 2026 the @locks/process-lock authors. MIT license.
// What the lock objects and the lock managers ask of a backend (lock files
// or PostgreSQL).

import type { LockMode, ResolvedAcquireOptions } from "./_options.ts";
import type { LockSnapshot } from "./web_locks.ts";

/**
 * Where locks live: what a lock object asks of lock files or of PostgreSQL.
 * `R` is what a release returns: `void` (files) or `Promise<void>`.
 */
export interface Backend<H, R extends void | Promise<void>> {
  /** Where the locks live, for telemetry. */
  system: "file" | "postgres";
  /**
   * One acquire call.
   *
   * @returns The hold, or undefined when a try failed or time ran out.
   * @throws The reason of `objectSignal` (or of the call's own signal) when
   * aborted. Nothing is left held after a throw.
   */
  acquire(
    mode: LockMode,
    options: ResolvedAcquireOptions,
    objectSignal: AbortSignal,
  ): Promise<H | undefined>;
  /** Lets go of a hold. */
  release(hold: H): R;
  /** Whether a hold still protects what it locked. */
  isValid(hold: H): boolean;
  /** Aborts when `hold` is lost (a backend whose holds cannot be lost has
   * none). */
  lostSignal?(hold: H): AbortSignal;
  /** The holder of the lock as recorded, if the backend records it. */
  holderOf?(): { pid: number; hostname: string } | undefined;
}

/** What a manager asks of lock files or of PostgreSQL. */
export interface ManagerBackend<H> {
  /** The lock named `name`. */
  lockOf(name: string): Backend<H, void | Promise<void>>;
  /** The hold's fencing token, if the backend has one. */
  tokenOf(hold: H): bigint | undefined;
  /** Frees `name` from the holders of other processes, or throws a
   * `NotSupportedError` that says why it cannot. */
  stealFromOthers(name: string): Promise<void>;
  /** The requests of the other managers (processes, hosts). */
  queryOthers(clientId: string): Promise<LockSnapshot>;
  /** Hears that this manager's requests changed: `count` of them now, and
   * `own()` lists them (called only when needed). */
  publish(count: number, own: () => LockSnapshot): void;
}
