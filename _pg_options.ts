// Copyright 2026 the @locks/process-lock authors. MIT license.
// The options of the PostgreSQL locks and the client types they name
// (re-exported by postgres.ts), and the checks of names and options.

import {
  checkLogger,
  checkObject,
  checkPositive,
  describe,
} from "./_options.ts";
import type { SessionOptions } from "./_pg_session.ts";

/**
 * One server session, as a `postgres` client's reserved connection gives
 * it: simple queries, and giving the connection back.
 *
 * @example A reserved connection of the `postgres` client
 * ```ts ignore
 * import postgres from "postgres";
 * import type { PostgresSession } from "@locks/process-lock/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const session: PostgresSession = await sql.reserve();
 * session.release();
 * ```
 */
export interface PostgresSession {
  /**
   * Runs a query in the simple protocol (several statements allowed).
   *
   * @param query The SQL text.
   * @returns The rows, as a promise that can be cancelled.
   */
  unsafe(
    query: string,
  ): Promise<ArrayLike<Record<string, unknown>>> & { cancel(): unknown };
  /** Gives the connection back to its pool. */
  release(): void;
}

/**
 * A client that can reserve a session: the `postgres` package's `sql`.
 *
 * @example Usage
 * ```ts ignore
 * import postgres from "postgres";
 * import type { PostgresClient } from "@locks/process-lock/postgres";
 *
 * const client: PostgresClient = postgres(Deno.env.get("DATABASE_URL")!);
 * ```
 */
export interface PostgresClient {
  /**
   * Reserves one connection of the pool.
   *
   * @returns The session.
   */
  reserve(): Promise<PostgresSession>;
}

/**
 * Options of a PostgreSQL lock.
 *
 * @example Usage
 * ```ts
 * import type { PostgresLockOptions } from "@locks/process-lock/postgres";
 *
 * const options: PostgresLockOptions = {
 *   url: "postgres://app@db.internal/app",
 *   keepaliveIdle: 5_000,
 *   keepaliveInterval: 2_000,
 *   keepaliveCount: 3,
 * };
 * ```
 */
export interface PostgresLockOptions {
  /**
   * The server (`postgres://` or `postgresql://`; only its first host is
   * used). Each concurrent hold has a session of its own: the lock opens a
   * connection, and keeps it for a second after a clean release for the
   * next acquisition on the same URL.
   *
   * @default {`DATABASE_URL`, else the client's `PG*` defaults}
   */
  url?: string | URL;
  /**
   * Your own `postgres` client instead of `url`: each acquisition reserves
   * one of its connections and gives it back at the release. Its pool must
   * not close connections under a hold (no `max_lifetime` or
   * `idle_timeout` shorter than your holds), and must have a free
   * connection for every concurrent acquisition. A lost session is noticed
   * at once only with `url` (the lock then owns the connection); with your
   * client, when the lock next uses the session.
   */
  sql?: PostgresClient;
  /** Hears each step at debug level. `console` works. */
  logger?: { debug(...data: unknown[]): void };
  /**
   * The lease of a hold, in milliseconds: the server ends a holder's
   * session once it has been silent that long (`idle_session_timeout`,
   * PostgreSQL 14+), and a heartbeat every third of it keeps it alive. The
   * holder learns of a loss (`isValid()` false, `signal` aborted) a tenth of
   * the lease before the server can free the lock. At least 500.
   *
   * @default {keepaliveIdle + keepaliveInterval x keepaliveCount (25000)}
   */
  lease?: number;
  /**
   * How long opening a connection may take when the call has no timeout, in
   * milliseconds. A call with a timeout connects within it, or within 1 s
   * when the timeout is shorter.
   *
   * @default {10000}
   */
  connectTimeout?: number;
  /**
   * How long a session's connection may be silent before the server starts
   * probing the client, in milliseconds (`tcp_keepalives_idle`, rounded up
   * to whole seconds).
   *
   * @default {10000}
   */
  keepaliveIdle?: number;
  /**
   * The time between two unanswered probes, in milliseconds
   * (`tcp_keepalives_interval`).
   *
   * @default {5000}
   */
  keepaliveInterval?: number;
  /**
   * How many unanswered probes end the session and free its locks
   * (`tcp_keepalives_count`).
   *
   * @default {3}
   */
  keepaliveCount?: number;
}

/** Checks a lock name: a non-empty string. */
export function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string") {
    throw new TypeError(
      `Lock name must be a string, got ${describe(name)}`,
    );
  }
  if (name.length === 0) throw new TypeError("Lock name must not be empty");
}

/** The keys of `PostgresLockOptions`. */
export const POSTGRES_KEYS: readonly string[] = [
  "url",
  "sql",
  "logger",
  "lease",
  "connectTimeout",
  "keepaliveIdle",
  "keepaliveInterval",
  "keepaliveCount",
];

/**
 * Checks the options of a PostgreSQL lock.
 *
 * @throws {TypeError} On an unknown option or one of the wrong type.
 * @throws {RangeError} On a keepalive that is not a positive number.
 */
export function resolveOptions(options: unknown): SessionOptions {
  const o = checkObject(options, "PostgreSQL lock options", POSTGRES_KEYS);
  if (o.url !== undefined && o.sql !== undefined) {
    throw new TypeError('Give either the option "url" or "sql", not both');
  }
  const sql = o.sql as { reserve?: unknown } | undefined;
  if (
    sql !== undefined &&
    (sql === null || typeof sql !== "function" && typeof sql !== "object" ||
      typeof sql.reserve !== "function")
  ) {
    throw new TypeError(
      `Option "sql" must be a postgres client (with reserve()), got ${
        describe(sql)
      }`,
    );
  }
  const logger = checkLogger(o.logger);
  const idle = Math.ceil(
    checkPositive(o.keepaliveIdle, "keepaliveIdle", 10_000) / 1000,
  );
  const interval = Math.ceil(
    checkPositive(o.keepaliveInterval, "keepaliveInterval", 5_000) / 1000,
  );
  const count = checkPositive(o.keepaliveCount, "keepaliveCount", 3);
  if (!Number.isInteger(count)) {
    throw new RangeError(
      `Option "keepaliveCount" must be a whole number, got ${count}`,
    );
  }
  const lease = checkPositive(
    o.lease,
    "lease",
    (idle + interval * count) * 1000,
  );
  if (lease < MIN_LEASE) {
    throw new RangeError(
      `Option "lease" must be at least ${MIN_LEASE} ms, got ${lease}`,
    );
  }
  return {
    url: checkUrl(o.url),
    sql: o.sql as PostgresClient | undefined,
    logger,
    keepalive: { idle, interval, count },
    lease,
    connectTimeout: checkPositive(o.connectTimeout, "connectTimeout", 10_000),
  };
}

/** The shortest lease, in milliseconds. */
export const MIN_LEASE = 500;

/**
 * Checks a server URL: a `postgres://` or `postgresql://` URL.
 *
 * @throws {TypeError} On anything else.
 */
export function checkUrl(url: unknown): string | undefined {
  if (url === undefined) return undefined;
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw new TypeError(
      `Option "url" must be a string or a URL, got ${describe(url)}`,
    );
  }
  if (!/^postgres(ql)?:\/\//i.test(String(url))) {
    throw new TypeError(
      `Option "url" must be a postgres:// or postgresql:// URL, got "${
        String(url).replace(/:[^:@/]*@/, ":***@")
      }"`,
    );
  }
  return String(url);
}

/** `DATABASE_URL`, when set and readable without a prompt. */
export function databaseUrl(): string | undefined {
  try {
    const state = Deno.permissions.querySync({
      name: "env",
      variable: "DATABASE_URL",
    }).state;
    return state === "granted" ? Deno.env.get("DATABASE_URL") : undefined;
  } catch {
    return undefined;
  }
}
