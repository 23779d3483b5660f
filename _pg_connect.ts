// Copyright 2026 the @locks/process-lock authors. MIT license.
// The connection of one hold: opened by the lock within a bound on a socket
// it can destroy (with `url`) and kept a short while for the next
// acquisition on the same server, or reserved from the user's client.

import net from "node:net";
// Pinned here, so that the module loads from a clone, a plain file import or
// an installed command without this package's deno.json (which pins the same
// version for the tests; a test checks that the two agree).
// deno-lint-ignore no-import-prefix
import postgres from "npm:postgres@3.4.9";
import { timedOut } from "./_pg_errors.ts";
import type { PostgresClient, PostgresSession } from "./_pg_options.ts";

/** A session to the server, whoever opened it. */
export interface Connection {
  readonly session: PostgresSession;
  /** The server as host:port, for messages. */
  readonly server: string;
  /** The server's major version (14, 15, ...), 0 when unknown. */
  readonly version: number;
  /** Called when the connection closes under a hold (only with `url`). */
  onClose: (() => void) | undefined;
  /**
   * Gives up a query in flight: the lock's own connection is destroyed (the
   * server drops the session); on a user's client the query is cancelled.
   */
  abandon(query: { cancel(): unknown }): void;
  /** Ends the connection at once, without waiting for the server. */
  destroy(): void;
  /**
   * Done with it: kept for reuse when `reusable` (the lock's own), given
   * back to the user's pool after `reset` runs on it.
   */
  finish(reusable: boolean, reset: string): Promise<void>;
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
    if (Number.isFinite(ms)) {
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

/** The idle connections of the lock, by URL. */
const idle = new Map<string, OwnedConnection[]>();
/** How long a connection stays idle for reuse, at most, in milliseconds. */
export const IDLE_MS = 1_000;

/**
 * Closes the connections kept for reuse. A test that acquires PostgreSQL
 * locks with `url` calls it at its end, as the test sanitizers want.
 */
export async function closeIdle(): Promise<void> {
  const all = [...idle.values()].flat();
  idle.clear();
  await Promise.all(all.map((connection) => connection.end()));
}

/** The server of a client's options, as host:port or a socket path. */
function serverOf(options: {
  host?: string[];
  port?: number[];
  path?: string;
}): string {
  return options.path || `${options.host?.[0]}:${options.port?.[0]}`;
}

/** The major version in a `server_version` parameter, 0 when unknown. */
function majorOf(parameters: { server_version?: string } | undefined): number {
  return parseInt(parameters?.server_version ?? "", 10) || 0;
}

/** A connection opened by the lock: a client of its own, with one socket. */
class OwnedConnection implements Connection {
  readonly session: PostgresSession;
  readonly server: string;
  readonly version: number;
  onClose: (() => void) | undefined;
  readonly #client: postgres.Sql;
  readonly #socket: () => net.Socket | undefined;
  readonly #key: string;
  #closed = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    session: PostgresSession,
    client: postgres.Sql,
    socket: () => net.Socket | undefined,
    key: string,
  ) {
    this.session = session;
    this.#client = client;
    this.#socket = socket;
    this.#key = key;
    this.server = serverOf(client.options);
    this.version = majorOf(client.parameters as { server_version?: string });
  }

  /** The socket closed: a hold hears of it; an idle one is dropped. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leaveIdle();
    this.onClose?.();
  }

  abandon(): void {
    this.destroy();
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

/**
 * A connection of the lock's own to `url` (`undefined`: the client's `PG*`
 * defaults): an idle one, or a new one opened within `ms` milliseconds.
 *
 * @throws The `TIMEOUT` error, `signal.reason`, or the client's error.
 */
export function openConnection(
  url: string | undefined,
  ms: number,
  signal: AbortSignal,
): Promise<Connection> {
  const reused = idle.get(url ?? "")?.at(-1)?.reuse();
  return reused ? Promise.resolve(reused) : connect(url, ms, signal);
}

async function connect(
  url: string | undefined,
  ms: number,
  signal: AbortSignal,
): Promise<OwnedConnection> {
  let socket: net.Socket | undefined;
  let ended = false;
  let connection: OwnedConnection | undefined;
  const clientOptions = {
    max: 1,
    // Never close the session under a hold; the lock bounds connecting.
    idle_timeout: null,
    max_lifetime: null,
    connect_timeout: 86_400,
    prepare: false,
    // A plain query opens the connection, then it is reserved: reserve()
    // on a new connection never resolves without type fetching, and a
    // socket destroyed while types are fetched gives an unhandled rejection.
    fetch_types: false,
    onnotice: () => {},
    onclose: () => connection?.closed(),
    connection: { application_name: "@locks/process-lock" },
    // A socket the lock can destroy (only the first host of a URL is used).
    socket: (o: { path?: string; host: string[]; port: number[] }) => {
      if (ended) throw new Error("The connection was closed");
      socket = o.path ? net.connect(o.path) : net.connect(o.port[0], o.host[0]);
      return socket;
    },
  } as unknown as postgres.Options<Record<string, never>>;
  const client = url === undefined
    ? postgres(clientOptions)
    : postgres(url, clientOptions);
  try {
    const session = await bounded(
      client.unsafe("SELECT 1").then(() => client.reserve()),
      ms,
      signal,
      "connecting",
    );
    connection = new OwnedConnection(
      session as unknown as PostgresSession,
      client,
      () => socket,
      url ?? "",
    );
    return connection;
  } catch (error) {
    ended = true;
    socket?.destroy();
    await client.end({ timeout: 0 }).catch(() => {});
    throw Object.assign(error as Error, {
      server: serverOf(client.options),
    });
  }
}

/**
 * A connection reserved from the user's client within `ms` milliseconds.
 * The lock cannot destroy it: it gives it back instead.
 */
export async function reserveConnection(
  sql: PostgresClient,
  ms: number,
  signal: AbortSignal,
): Promise<Connection> {
  const reserving = sql.reserve();
  const session = await bounded(reserving, ms, signal, "reserving a connection")
    .catch((error) => {
      // One that comes too late goes back to the pool.
      reserving.then((late) => late.release(), () => {});
      throw error;
    });
  const { options, parameters } = sql as {
    options?: { host?: string[]; port?: number[]; path?: string };
    parameters?: { server_version?: string };
  };
  let released = false;
  const release = () => {
    if (!released) session.release();
    released = true;
  };
  return {
    session,
    server: options ? serverOf(options) : "your client's server",
    version: majorOf(parameters),
    onClose: undefined,
    abandon: (query) => query.cancel(),
    destroy: release,
    finish: async (_reusable, reset) => {
      try {
        await bounded(session.unsafe(reset), ms, undefined, "the reset");
      } finally {
        release();
      }
    },
  };
}
