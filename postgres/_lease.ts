// Copyright 2026 the @locks/process-lock authors. MIT license.
// The lease of a held PostgreSQL lock: a heartbeat on its session renews
// it, the clock says synchronously whether it still holds, and when it runs
// out the hold is lost, before the server can free the lock.

import type { Connection } from "./_connection.ts";
import { serverReason } from "./_reasons.ts";

/** The heartbeat runs every lease / BEATS_PER_LEASE. */
const BEATS_PER_LEASE = 3;
/** The hold ends a lease / MARGIN_PARTS before the server may free it. */
const MARGIN_PARTS = 10;

/** Why a connection closed under a hold, in words. */
function closedReason(connection: Connection): string {
  const farewell = connection.farewell;
  return farewell === undefined
    ? "the connection to the server closed"
    : `the server ended the session: ${farewell.message} (${farewell.code})`;
}

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
  /** The lease, in milliseconds. */
  readonly ms: number;
  readonly #connection: Connection;
  readonly #lostError: (reason: string) => Error;
  #validUntil: number;
  #nextBeat: number;
  #beating = false;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Whether a lock granted on a statement sent at `sentAt` needs a query
   * answered after the grant before its lease can start: the grant came
   * later than a heartbeat would have.
   */
  static proofDue(sentAt: number, ms: number): boolean {
    return performance.now() - sentAt >= ms / BEATS_PER_LEASE;
  }

  /** How long a lease of `ms` lets a holder use it, in milliseconds. */
  static usable(ms: number): number {
    return ms - ms / MARGIN_PARTS;
  }

  /**
   * Starts the lease of a hold from `provenAt` (`performance.now()`), the
   * send time of a query the server answered after the grant (or of the
   * lock statement itself when it was granted soon enough); `lostError`
   * makes the reason of a loss.
   */
  constructor(
    connection: Connection,
    ms: number,
    provenAt: number,
    lostError: (reason: string) => Error,
  ) {
    this.#connection = connection;
    this.ms = ms;
    this.#lostError = lostError;
    this.#validUntil = provenAt + Lease.usable(ms);
    this.#nextBeat = provenAt + ms / BEATS_PER_LEASE;
    connection.onClose = () => this.lose(closedReason(connection));
    this.#schedule();
  }

  /** Whether the hold is still good, by the clock; a loss aborts `lost`. */
  get valid(): boolean {
    const now = performance.now();
    if (now >= this.#validUntil) {
      // A heartbeat in flight went unanswered; none sent means this
      // process did not run when it was due.
      this.lose(
        this.#beating
          ? `no answer from the server for a lease of ${this.ms} ms`
          : `this process did not run for ${
            Math.round(now - this.#nextBeat)
          } ms past its heartbeat (its event loop was blocked or it was paused), longer than the lease of ${this.ms} ms allows`,
      );
    }
    return !this.lost.signal.aborted;
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
    this.#nextBeat = sentAt + this.ms / BEATS_PER_LEASE;
    try {
      await this.#connection.query("SELECT 1");
      this.#validUntil = Math.max(
        this.#validUntil,
        sentAt + Lease.usable(this.ms),
      );
    } catch (error) {
      const reason = serverReason(this.#connection, error) as Error;
      this.lose(`the heartbeat failed: ${reason.message}`);
    } finally {
      this.#beating = false;
      if (this.#timer !== undefined) this.#schedule();
    }
  }
}
