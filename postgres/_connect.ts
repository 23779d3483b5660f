// Copyright 2026 the @locks/process-lock authors. MIT license.
// Opening a session of a PostgreSQL lock's own within the call's bound: on
// a socket the lock can destroy, to the URL or where the user's client
// connects (never from its pool), or a session kept from an earlier hold.

import net from "node:net";
// Pinned here, so that the module loads from a clone, a plain file import or
// an installed command without this package's deno.json (which pins the same
// version for the tests; a test checks that the two agree).
// deno-lint-ignore no-import-prefix
import postgres from "npm:postgres@3.4.9";
import {
  bounded,
  type Connection,
  fromClient,
  hostPort,
  OwnedConnection,
  type Reserved,
  takeIdle,
} from "./_connection.ts";
import { codeOf, FarewellReader, postgresError } from "./_reasons.ts";
import { applicationName, type Keepalive } from "./_sql.ts";
import { hostname } from "../_core/_host.ts";
import type { PostgresClient } from "./types.ts";
import type { Logger } from "../_core/types.ts";

/** What a lock's options give each of its sessions. */
export interface SessionOptions {
  url: string | undefined;
  sql: PostgresClient | undefined;
  logger: Logger | undefined;
  keepalive: Keepalive;
  /** The lease, in milliseconds. */
  lease: number;
  /** The bound on connecting for a call without a timeout, in ms
   * (undefined: the URL's `connect_timeout`, else 10 s). */
  connectTimeout: number | undefined;
}

/** `DATABASE_URL`, when set and readable without a prompt. */
export function databaseUrl(): string | undefined {
  try {
    const state = Deno.permissions.querySync({
      name: "env",
      variable: "DATABASE_URL",
    }).state;
    return state === "granted"
      ? Deno.env.get("DATABASE_URL") || undefined
      : undefined;
  } catch {
    return undefined;
  }
}

/** Where a lock's sessions go: a URL, a user's client's options, or `PG*`. */
export interface Source {
  url: string | undefined;
  sql: PostgresClient | undefined;
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
  const reused = fresh ? undefined : takeIdle(key);
  return reused ? Promise.resolve(reused) : connect(source, key, ms, signal);
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
      application_name: applicationName(hostname()),
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

/** A call may always take this long to connect, in milliseconds. */
export const CONNECT_FLOOR_MS = 1_000;
/** Where a lock's sessions go: `url`, `sql`, else `DATABASE_URL`. */
function sourceOf(options: SessionOptions): Source {
  const { url, sql } = options;
  return { url: url ?? (sql ? undefined : databaseUrl()), sql };
}

/** What bounds a call's connect, and how its messages name the lock. */
export interface ConnectCall {
  /** The lock for messages: `the PostgreSQL lock "jobs"`. */
  lock: string;
  options: SessionOptions;
  signal: AbortSignal;
  /** When the call gives up (`performance.now()`), Infinity for never. */
  deadline: number;
  blocking: boolean;
}

/**
 * The bound on connecting for a call and what set it: its time left, at
 * least the floor, at most the connect timeout.
 */
function connectBound(call: ConnectCall, url: string | undefined): [
  number,
  string,
] {
  const left = call.blocking ? call.deadline - performance.now() : 0;
  const [connectTimeout, option] = connectTimeoutOf(call.options, url);
  if (connectTimeout <= Math.max(left, CONNECT_FLOOR_MS)) {
    return [connectTimeout, option];
  }
  return left >= CONNECT_FLOOR_MS
    ? [left, "the call's timeout"]
    : [CONNECT_FLOOR_MS, "the floor for connecting"];
}

/** The bound on connecting without a call's timeout, and what set it. */
export function connectTimeoutOf(
  options: SessionOptions,
  url: string | undefined,
): [number, string] {
  if (options.connectTimeout !== undefined) {
    return [options.connectTimeout, "connectTimeout"];
  }
  let seconds = NaN;
  try {
    seconds = Number(new URL(url ?? "").searchParams.get("connect_timeout"));
  } catch {
    // No URL: the default.
  }
  return seconds > 0
    ? [seconds * 1000, "connect_timeout in the URL"]
    : [DEFAULT_CONNECT_TIMEOUT_MS, "connectTimeout"];
}

/** The bound on connecting when neither the options nor the URL set one. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * A connection for a call (a kept one unless `fresh`), within its bound.
 *
 * @throws A {@linkcode PostgresConnectionError} naming the server, the
 * bound and what to do; the signal's reason when aborted.
 */
export async function connectFor(
  call: ConnectCall,
  fresh: boolean,
): Promise<Connection> {
  const source = sourceOf(call.options);
  const [ms, bound] = connectBound(call, source.url);
  try {
    return await openConnection(source, ms, call.signal, fresh);
  } catch (error) {
    if (call.signal.aborted) throw call.signal.reason;
    const server = (error as { server?: string }).server ?? "";
    let advice: string | undefined;
    if (codeOf(error) === "TIMEOUT") {
      (error as Error).message += ` (${bound})`;
      advice =
        `Check that the host is reachable and that the URL names a PostgreSQL server, or ${
          bound === "connectTimeout"
            ? "raise connectTimeout (or connect_timeout in the URL)"
            : bound === "connect_timeout in the URL"
            ? "raise connect_timeout in the URL"
            : "give the call a longer timeout (-w on the command line)"
        }`;
    }
    if (source.url === undefined && source.sql === undefined) {
      advice =
        "No url was given and DATABASE_URL is not set (or not readable), so the client's PG* defaults were used: pass url, or set DATABASE_URL";
    }
    throw postgresError("Cannot connect for", call.lock, server, error, advice);
  }
}
