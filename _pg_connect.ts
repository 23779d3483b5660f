// Copyright 2026 the @locks/process-lock authors. MIT license.
// The connection of one hold: a session of the lock's own, opened within a
// bound on a socket it can destroy (from a URL or from the options of the
// user's client, never from its pool), and kept a short while for the next
// acquisition on the same server.

import net from "node:net";
// Pinned here, so that the module loads from a clone, a plain file import or
// an installed command without this package's deno.json (which pins the same
// version for the tests; a test checks that the two agree).
// deno-lint-ignore no-import-prefix
import postgres from "npm:postgres@3.4.9";
import { type Farewell, FarewellReader } from "./_pg_farewell.ts";
import { timedOut } from "./_pg_errors.ts";
import type { PostgresClient } from "./_pg_options.ts";

/** Rows of a simple query. */
export type Rows = ArrayLike<Record<string, unknown>>;

/** Where a lock's sessions go: a URL, a user's client's options, or `PG*`. */
export interface Source {
  url: string | undefined;
  sql: PostgresClient | undefined;
}

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

/** The idle connections of the lock, by URL or user's client. */
const idle = new Map<unknown, OwnedConnection[]>();
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
function hostPort(host: string, port: number | string): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * The server of a source, for messages, read without the client: the
 * URL's first host, the client's, or "" (the `PG*` defaults).
 */
export function serverOf(source: Source): string {
  if (source.sql !== undefined) {
    const o = source.sql.options as { host?: string[]; port?: number[] };
    return o.host?.[0] ? hostPort(o.host[0], o.port?.[0] ?? 5432) : "";
  }
  const at = source.url?.match(/^[^:]+:\/\/(?:[^@/?#]*@)?([^/?#,]*)/)?.[1];
  if (!at) return "";
  const [, host, port] = at.match(/^\[?(.*?)\]?(?::(\d+))?$/) ?? [];
  return host ? hostPort(decodeURIComponent(host), port ?? 5432) : "";
}

/** The major version in a `server_version` parameter, 0 when unknown. */
function majorOf(parameters: { server_version?: string } | undefined): number {
  return parseInt(parameters?.server_version ?? "", 10) || 0;
}

/**
 * Throws unless this process may connect to `host:port`, naming the flag:
 * `node:net` reports a missing permission outside any promise, where no
 * caller could catch it.
 */
function checkNetAccess(host: string, port: number): void {
  const where = hostPort(host, port);
  const descriptor = { name: "net", host: where } as const;
  let { state } = Deno.permissions.querySync(descriptor);
  if (state === "prompt") {
    state = Deno.permissions.requestSync(descriptor).state;
  }
  if (state !== "granted") {
    throw Object.assign(
      new Error(
        `Requires net access to "${where}": run again with --allow-net (or --allow-net=${where})`,
      ),
      { code: "NotCapable" },
    );
  }
}

/** A reserved session of a client of one connection. */
interface Reserved {
  unsafe(sql: string): Promise<Rows>;
}

/** A connection opened by the lock: a client of its own, with one socket. */
class OwnedConnection implements Connection {
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

/**
 * A connection of the lock's own: an idle one kept from an earlier hold
 * (unless `fresh`), or a new one opened within `ms` milliseconds.
 *
 * @throws The `TIMEOUT` error, `signal.reason`, or the client's error
 * (with `server` set).
 */
export function openConnection(
  source: Source,
  ms: number,
  signal: AbortSignal,
  fresh = false,
): Promise<Connection> {
  const key = source.sql ?? source.url ?? "";
  const reused = fresh ? undefined : idle.get(key)?.at(-1)?.reuse();
  return reused ? Promise.resolve(reused) : connect(source, key, ms, signal);
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
function fromClient(sql: PostgresClient | undefined): {
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

async function connect(
  source: Source,
  key: unknown,
  ms: number,
  signal: AbortSignal,
): Promise<OwnedConnection> {
  let socket: net.Socket | undefined;
  let ended = false;
  let connection: OwnedConnection | undefined;
  let client: postgres.Sql | undefined;
  const reader = new FarewellReader();
  const user = fromClient(source.sql);
  const clientOptions = {
    ...user.options,
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
    onclose: () => connection?.socketClosed(),
    connection: {
      ...user.options.connection as object,
      application_name: "@locks/process-lock",
    },
    // A socket the lock can destroy (only the first host is used).
    socket: async (o: { path?: string; host: string[]; port: number[] }) => {
      if (ended) throw new Error("The connection was closed");
      if (user.socket === undefined && !o.path) {
        checkNetAccess(o.host[0], o.port[0]);
      }
      socket = user.socket !== undefined
        ? await user.socket(o)
        : o.path
        ? net.connect(o.path)
        : net.connect(o.port[0], o.host[0]);
      // Under TLS the bytes cannot be read: no server's reason then.
      if (!client?.options.ssl) {
        reader.reading = true;
        socket.on("data", (x) => reader.feed(x));
      }
      return socket;
    },
  } as unknown as postgres.Options<Record<string, never>>;
  try {
    client = source.url === undefined
      ? postgres(clientOptions)
      : postgres(source.url, clientOptions);
    const opened = client;
    const session = await bounded(
      opened.unsafe("SELECT 1").then(() => opened.reserve()),
      ms,
      signal,
      "connecting",
    );
    connection = new OwnedConnection(
      session as unknown as Reserved,
      opened,
      () => socket,
      reader,
      key,
    );
    return connection;
  } catch (error) {
    ended = true;
    socket?.destroy();
    await client?.end({ timeout: 0 }).catch(() => {});
    throw Object.assign(error as Error, {
      server: client?.options.path || serverOf(source),
    });
  }
}
