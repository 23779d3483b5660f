// Copyright 2026 the @locks/process-lock authors. MIT license.
// The Web Locks API on any backend: the spec's queue per name inside one
// process (first come first served, adjacent shared requests together),
// each grant then taken from the backend across processes.

import type { Backend, ManagerBackend } from "./_backend.ts";
import { checkRequestArgs, resolveAcquireOptions } from "./_options.ts";
import { traced } from "./_telemetry.ts";
import type {
  GrantedLock,
  LockGrantedCallback,
  LockInfo,
  LockRequestOptions,
  LockSnapshot,
  WebLockMode,
} from "./web_locks.ts";

/** The acquire options of a request without a signal. */
const WAIT = resolveAcquireOptions({});
const TRY = resolveAcquireOptions({ blocking: false });

/** One request, from its call to its end. */
interface Request<H> {
  seq: number;
  name: string;
  mode: WebLockMode;
  ifAvailable: boolean;
  signal: AbortSignal | undefined;
  callback: LockGrantedCallback<unknown>;
  /** "stealing" first in the queue until the holders are gone; "queued"
   * here; "taking" from the backend; "held" once granted. */
  state: "stealing" | "queued" | "taking" | "held";
  hold?: H;
  /** The backend's lock of the name, once granted here. */
  lock?: Backend<H, void | Promise<void>>;
  /** Aborts the backend's wait, or the hold's `signal` once stolen. */
  stop: AbortController;
  settle: PromiseWithResolvers<unknown>;
  onAbort: () => void;
}

/** The requests of one name in this manager. */
interface Entry<H> {
  /** Granted here (taking or held), in grant order. */
  held: Request<H>[];
  queue: Request<H>[];
}

/** The Web Locks API of one manager object over `backend`. */
export class LockManagerCore<H> {
  readonly clientId: string;
  #backend: ManagerBackend<H>;
  #entries = new Map<string, Entry<H>>();
  #seq = 0;
  /** How many requests this manager has now. */
  #count = 0;
  #ownList = () => this.#own();

  constructor(backend: ManagerBackend<H>, clientId: string) {
    this.#backend = backend;
    this.clientId = clientId;
  }

  /** `request(name, [options], callback)`, as the Web Locks API. */
  async request(name: unknown, ...rest: unknown[]): Promise<unknown> {
    const [options, callback] = checkRequestArgs(String(name), rest);
    const request = this.#makeRequest(String(name), options, callback);
    const { signal, settle } = request;
    signal?.throwIfAborted();
    const entry = this.#entryOf(request.name);
    if (options.steal) {
      await this.#steal(entry, request);
    } else if (request.ifAvailable && !this.#grantable(entry, request)) {
      this.#grant(request.name); // forgets an entry made for nothing
      return await callback(null);
    } else {
      entry.queue.push(request);
      this.#count++;
      signal?.addEventListener("abort", request.onAbort, { once: true });
    }
    this.#grant(request.name);
    return await settle.promise;
  }

  /** `query()`: this manager's requests, then the other managers'. */
  async query(): Promise<LockSnapshot> {
    const others = await this.#backend.queryOthers(this.clientId);
    const own = this.#own();
    return {
      held: [...own.held, ...others.held],
      pending: [...own.pending, ...others.pending],
    };
  }

  #makeRequest(
    name: string,
    options: LockRequestOptions,
    callback: LockGrantedCallback<unknown>,
  ): Request<H> {
    const request: Request<H> = {
      seq: ++this.#seq,
      name,
      mode: options.mode ?? "exclusive",
      ifAvailable: options.ifAvailable ?? false,
      signal: options.signal,
      callback,
      state: "queued",
      stop: new AbortController(),
      settle: Promise.withResolvers(),
      onAbort: () => this.#abort(request),
    };
    return request;
  }

  #entryOf(name: string): Entry<H> {
    const entry = this.#entries.get(name) ?? { held: [], queue: [] };
    this.#entries.set(name, entry);
    return entry;
  }

  /** The spec's rule: an exclusive request goes first and alone; a shared
   * one goes with the shared requests before it. */
  #grantable(entry: Entry<H>, request: Request<H>): boolean {
    if (request.state === "stealing") return false;
    const before = entry.queue.slice(0, entry.queue.indexOf(request) >>> 0);
    if (request.mode === "exclusive") {
      return entry.held.length === 0 && before.length === 0;
    }
    return entry.held.every((r) => r.mode === "shared") &&
      before.every((r) => r.mode === "shared");
  }

  /** Grants, in queue order, every request of `name` that may go now. */
  #grant(name: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined) return;
    while (entry.queue.length > 0 && this.#grantable(entry, entry.queue[0])) {
      const request = entry.queue.shift()!;
      request.signal?.removeEventListener("abort", request.onAbort);
      entry.held.push(request);
      request.state = "taking";
      this.#take(entry, request);
    }
    if (entry.held.length === 0 && entry.queue.length === 0) {
      this.#entries.delete(name);
    }
    this.#backend.publish(this.#count, this.#ownList);
  }

  /** Takes a granted request's lock from the backend, then runs it. */
  async #take(entry: Entry<H>, request: Request<H>): Promise<void> {
    let hold: H | undefined;
    try {
      const { ifAvailable, signal } = request;
      const options = signal === undefined
        ? (ifAvailable ? TRY : WAIT)
        : resolveAcquireOptions({ signal });
      const { name } = request;
      const lock = traced(this.#backend.lockOf(name), {
        name,
        kind: "web_lock",
      });
      request.lock = lock;
      hold = await lock.acquire(request.mode, options, request.stop.signal);
    } catch (error) {
      this.#end(entry, request);
      this.#grant(request.name);
      request.settle.reject(error);
      return;
    }
    if (hold === undefined) {
      // ifAvailable, and another process holds it.
      this.#end(entry, request);
      this.#grant(request.name);
      Promise.resolve().then(() => request.callback(null))
        .then(request.settle.resolve, request.settle.reject);
      return;
    }
    this.#run(entry, request, hold);
  }

  /** Runs the callback while `hold` is held; releases it when it settles. */
  #run(entry: Entry<H>, request: Request<H>, hold: H): void {
    request.state = "held";
    request.hold = hold;
    this.#backend.publish(this.#count, this.#ownList);
    const lost = request.lock!.lostSignal?.(hold);
    const signal = lost === undefined
      ? request.stop.signal
      : AbortSignal.any([request.stop.signal, lost]);
    const onLost = () => this.#lose(entry, request, signal.reason);
    signal.addEventListener("abort", onLost, { once: true });
    const lock: GrantedLock = Object.freeze({
      name: request.name,
      mode: request.mode,
      signal,
      token: this.#backend.tokenOf(hold),
    });
    const done = async (outcome: () => void) => {
      signal.removeEventListener("abort", onLost);
      if (request.hold !== undefined) await this.#release(entry, request);
      outcome();
    };
    Promise.resolve()
      .then(() => request.callback(lock))
      .then(
        (value) => done(() => request.settle.resolve(value)),
        (error) => done(() => request.settle.reject(error)),
      );
  }

  /** Lets go of a request's hold and grants what it held back. */
  async #release(entry: Entry<H>, request: Request<H>): Promise<void> {
    const hold = request.hold!;
    request.hold = undefined;
    this.#end(entry, request);
    try {
      await request.lock!.release(hold);
    } finally {
      this.#grant(request.name);
    }
  }

  /** A hold lost or stolen: the request rejects now with an AbortError,
   * and the hold is let go (the promise says when). */
  #lose(entry: Entry<H>, request: Request<H>, reason: unknown): Promise<void> {
    if (request.hold === undefined) return Promise.resolve();
    const message = reason instanceof Error ? reason.message : String(reason);
    request.settle.reject(
      new DOMException(
        `The lock "${request.name}" was lost: ${message}`,
        "AbortError",
      ),
    );
    return this.#release(entry, request).catch(() => {});
  }

  /** Takes the lock from every holder, local and (as far as the backend
   * can) of other processes; `request` waits first in the queue meanwhile.
   *
   * @throws What the backend throws when it cannot (`request` is gone). */
  async #steal(entry: Entry<H>, request: Request<H>): Promise<void> {
    request.state = "stealing";
    entry.queue.unshift(request);
    this.#count++;
    const releases = entry.held.map((holder) => {
      holder.stop.abort(new Error("stolen by a request with steal"));
      return this.#lose(entry, holder, holder.stop.signal.reason);
    });
    await Promise.all(releases);
    try {
      await this.#backend.stealFromOthers(request.name);
    } catch (error) {
      entry.queue.splice(entry.queue.indexOf(request), 1);
      this.#count--;
      throw error;
    } finally {
      request.state = "queued";
      this.#grant(request.name);
    }
  }

  /** A pending request's signal aborted: it leaves the queue. */
  #abort(request: Request<H>): void {
    const entry = this.#entries.get(request.name);
    if (entry === undefined || request.state !== "queued") return;
    entry.queue.splice(entry.queue.indexOf(request), 1);
    this.#count--;
    request.settle.reject(request.signal!.reason);
    this.#grant(request.name);
  }

  /** Forgets a request that was granted here. */
  #end(entry: Entry<H>, request: Request<H>): void {
    const index = entry.held.indexOf(request);
    if (index === -1) return;
    entry.held.splice(index, 1);
    this.#count--;
  }

  /** This manager's requests, in request order. */
  #own(): LockSnapshot {
    const all = [...this.#entries.values()]
      .flatMap((e) => [...e.held, ...e.queue])
      .sort((a, b) => a.seq - b.seq);
    const info = (r: Request<H>): LockInfo => ({
      name: r.name,
      mode: r.mode,
      clientId: this.clientId,
    });
    return {
      held: all.filter((r) => r.state === "held").map(info),
      pending: all.filter((r) => r.state !== "held").map(info),
    };
  }
}
