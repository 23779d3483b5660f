// Copyright 2026 the @locks/process-lock authors. MIT license.
// A session of a PostgreSQL lock's own: its connection, which never writes
// once closed, knows the server's last word, and is kept a short while for
// the next acquisition on the same server; a step settled within a bound;
// and what a connection takes from a user's client.

import type net from "node:net";
// deno-lint-ignore no-import-prefix
import type postgres from "npm:postgres@3.4.9";
import { type Farewell, type FarewellReader, timedOut } from "./_reasons.ts";
import { MAX_TIMER_MS } from "../_core/_options.ts";
import type { PostgresClient } from "./types.ts";

/** Rows of a simple query. */
export type Rows = ArrayLike<Record<string, unknown>>;

/** A session of the lock's own on the server. */
export interface Connection {
  /** The server as host:port, for messages. */
  readonly server: string;
  /** The server's major version (14, 15, ...), 0 when unknown. */
  readonly version: number;
  /**
   * Whether it was kept from an earlier hold and the server has answered
   * nothing since (on a plain connection; false under TLS, where that
   * cannot be read): a failure then means the session had ended while idle.
   */
  readonly unheardSinceReuse: boolean;
  /** Whether it closed or was destroyed. */
  readonly closed: boolean;
  /** The last error the server sent on it (why it ended the session). */
  readonly farewell: Farewell | undefined;
  /** Called when the connection closes under a hold. */
  onClose: (() => void) | undefined;
  /** Runs simple SQL; rejects at once once the connection is closed. */
  query(sql: string): Promise<Rows>;
  /** Ends the connection at once: the server drops the session. */
  destroy(): void;
  /** Done with it: kept for reuse when `reusable`, else closed. */
  finish(reusable: boolean): Promise<void>;
}

/**
 * Settles as `promise` does, or rejects once `ms` milliseconds passed
 * (with a `TIMEOUT` error naming `step`) or `signal` aborts (its reason).
 */
export function bounded<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
  step: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  const limit = new Promise<never>((_, reject) => {
    if (ms <= MAX_TIMER_MS) {
      timer = setTimeout(() => reject(timedOut(step, ms)), ms);
    }
    onAbort = () => reject(signal?.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([promise, limit]).finally(() => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  });
}

/** The idle connections of the lock, by URL or user's client. */
const idle = new Map<unknown, OwnedConnection[]>();
/** A connection kept for `key` (a URL or a user's client), taken for reuse. */
export function takeIdle(key: unknown): OwnedConnection | undefined {
  return idle.get(key)?.at(-1)?.reuse();
}

/** How long a connection stays idle for reuse, at most, in milliseconds. */
export const IDLE_MS = 1_000;

/**
 * Closes the connections kept for reuse. A test that acquires PostgreSQL
 * locks calls it at its end, as the test sanitizers want.
 */
export async function closeIdle(): Promise<void> {
  const all = [...idle.values()].flat();
  idle.clear();
  await Promise.all(all.map((connection) => connection.end()));
}

/** Host and port as one string, IPv6 in brackets. */
export function hostPort(host: string, port: number | string): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** The major version in a `server_version` parameter, 0 when unknown. */
export function majorOf(
  parameters: { server_version?: string } | undefined,
): number {
  return parseInt(parameters?.server_version ?? "", 10) || 0;
}

/** A reserved session of a client of one connection. */
export interface Reserved {
  unsafe(sql: string): Promise<Rows>;
}

/** A connection opened by the lock: a client of its own, with one socket. */
export class OwnedConnection implements Connection {
  readonly server: string;
  readonly version: number;
  onClose: (() => void) | undefined;
  readonly #session: Reserved;
  readonly #client: postgres.Sql;
  readonly #socket: () => net.Socket | undefined;
  readonly #reader: FarewellReader;
  readonly #key: unknown;
  #closed = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** The answers heard when it was reused; -1 when not reused. */
  #heardAtReuse = -1;

  constructor(
    session: Reserved,
    client: postgres.Sql,
    socket: () => net.Socket | undefined,
    reader: FarewellReader,
    key: unknown,
  ) {
    this.#session = session;
    this.#client = client;
    this.#socket = socket;
    this.#reader = reader;
    this.#key = key;
    const { options } = client;
    this.server = options.path ||
      hostPort(options.host[0], options.port[0]);
    this.version = majorOf(client.parameters as { server_version?: string });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get farewell(): Farewell | undefined {
    return this.#reader.last;
  }

  get unheardSinceReuse(): boolean {
    return this.#reader.reading && this.#reader.answers === this.#heardAtReuse;
  }

  query(sql: string): Promise<Rows> {
    // Never write to a closed connection: npm:postgres 3.4.9 then throws
    // from a setImmediate, outside any promise, and ends the process
    // (porsager/postgres issues 1154, 1199, 1208).
    if (this.#closed) {
      return Promise.reject(
        Object.assign(new Error("the connection is closed"), {
          code: "CONNECTION_CLOSED",
        }),
      );
    }
    return this.#session.unsafe(sql);
  }

  /** The socket closed: a hold hears of it; an idle one is dropped. */
  socketClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leaveIdle();
    this.onClose?.();
  }

  destroy(): void {
    this.#closed = true;
    this.#socket()?.destroy();
    void this.end();
  }

  finish(reusable: boolean): Promise<void> {
    if (!reusable || this.#closed) return this.end();
    this.onClose = undefined;
    // Idle, it must not keep the process alive.
    this.#socket()?.unref();
    const timer = setTimeout(() => {
      this.#leaveIdle();
      void this.end();
    }, IDLE_MS);
    Deno.unrefTimer(timer as unknown as number);
    this.#idleTimer = timer;
    idle.set(this.#key, [...idle.get(this.#key) ?? [], this]);
    return Promise.resolve();
  }

  /** Takes it out of the idle list, to be used again. */
  reuse(): this {
    this.#leaveIdle();
    this.#socket()?.ref();
    this.#heardAtReuse = this.#reader.answers;
    return this;
  }

  /** Closes the client (its socket is destroyed or ends). */
  async end(): Promise<void> {
    this.#closed = true;
    this.#leaveIdle();
    await this.#client.end({ timeout: 0 }).catch(() => {});
  }

  #leaveIdle(): void {
    clearTimeout(this.#idleTimer);
    const list = idle.get(this.#key)?.filter((c) => c !== this) ?? [];
    if (list.length > 0) idle.set(this.#key, list);
    else idle.delete(this.#key);
  }
}

/** What the lock takes from a user's client: where and how to connect. */
const CLIENT_KEYS = [
  "host",
  "port",
  "path",
  "database",
  "user",
  "pass",
  "ssl",
  "sslnegotiation",
  "keep_alive",
  "target_session_attrs",
];

type SocketFactory = (
  options: { path?: string; host: string[]; port: number[] },
) => net.Socket | Promise<net.Socket>;

/** The connection options of a user's client (its pool is not used). */
export function fromClient(sql: PostgresClient | undefined): {
  options: Record<string, unknown>;
  socket: SocketFactory | undefined;
} {
  if (sql === undefined) return { options: {}, socket: undefined };
  const o = sql.options as Record<string, unknown>;
  const options = Object.fromEntries(
    CLIENT_KEYS.filter((key) => o[key] !== undefined).map((k) => [k, o[k]]),
  );
  options.connection = o.connection;
  return { options, socket: o.socket as SocketFactory | undefined };
}
