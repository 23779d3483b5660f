// Copyright 2026 the @locks/process-lock authors. MIT license.
// The lease of a held PostgreSQL lock: a heartbeat on its session renews
// it, the clock says synchronously whether it still holds, and when it runs
// out the hold is lost, before the server can free the lock.

import type { Connection } from "./_pg_connect.ts";

/** The heartbeat runs every lease / BEATS_PER_LEASE. */
const BEATS_PER_LEASE = 3;
/** The hold ends a lease / MARGIN_PARTS before the server may free it. */
const MARGIN_PARTS = 10;

/**
 * One hold's lease. The server ends the session once it has been idle for
 * `ms` (`idle_session_timeout`), and its idle time starts after it answered
 * a query, so it cannot free the lock before the send time of the last
 * answered query plus `ms`. The hold counts as valid until that moment
 * minus a margin.
 */
export class Lease {
  /** Aborted when the hold is lost (its reason says why). */
  readonly lost: AbortController = new AbortController();
  readonly #connection: Connection;
  readonly #ms: number;
  readonly #lostError: (reason: string) => Error;
  #validUntil: number;
  #nextBeat: number;
  #beating = false;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Starts the lease of a hold whose lock statement was sent at `sentAt`
   * (`performance.now()`); `lostError` makes the reason of a loss.
   */
  constructor(
    connection: Connection,
    ms: number,
    sentAt: number,
    lostError: (reason: string) => Error,
  ) {
    this.#connection = connection;
    this.#ms = ms;
    this.#lostError = lostError;
    this.#validUntil = this.#until(sentAt);
    this.#nextBeat = sentAt + ms / BEATS_PER_LEASE;
    connection.onClose = () => this.lose("the connection to the server closed");
    this.#schedule();
  }

  /** Whether the hold is still good, by the clock; a loss aborts `lost`. */
  get valid(): boolean {
    if (performance.now() >= this.#validUntil) {
      this.lose(`no answer from the server for a lease of ${this.#ms} ms`);
    }
    return !this.lost.signal.aborted;
  }

  /**
   * Renews the lease now when the next heartbeat is already due (the lock
   * statement waited long in the server).
   *
   * @returns Whether the hold is valid after that.
   */
  async renewIfDue(): Promise<boolean> {
    if (performance.now() >= this.#nextBeat) await this.#beat();
    return this.valid;
  }

  /** Ends the lease without a loss: the hold is being released. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#connection.onClose = undefined;
  }

  /** The hold is lost: says why, stops, and ends the connection. */
  lose(reason: string): void {
    if (this.lost.signal.aborted || this.#stopped) return;
    this.stop();
    this.lost.abort(this.#lostError(reason));
    this.#connection.destroy();
  }

  #until(sentAt: number): number {
    return sentAt + this.#ms - this.#ms / MARGIN_PARTS;
  }

  /** Wakes at the next heartbeat or at the end of the lease. */
  #schedule(): void {
    if (this.lost.signal.aborted) return;
    const now = performance.now();
    const at = this.#beating
      ? this.#validUntil
      : Math.min(this.#nextBeat, this.#validUntil);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, at - now));
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.valid) return;
    if (!this.#beating && performance.now() >= this.#nextBeat) {
      void this.#beat();
    }
    this.#schedule();
  }

  /** One heartbeat: an answered query renews the lease from its send time. */
  async #beat(): Promise<void> {
    const sentAt = performance.now();
    this.#beating = true;
    this.#nextBeat = sentAt + this.#ms / BEATS_PER_LEASE;
    try {
      await this.#connection.session.unsafe("SELECT 1");
      this.#validUntil = Math.max(this.#validUntil, this.#until(sentAt));
    } catch (error) {
      this.lose(`the heartbeat failed: ${(error as Error).message}`);
    } finally {
      this.#beating = false;
      if (this.#timer !== undefined) this.#schedule();
    }
  }
}
