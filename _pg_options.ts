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
 * A `postgres` client (the npm package's `sql`) whose connection options
 * the locks use: host, port, socket path, database, user, password, TLS,
 * its `socket` factory and startup parameters. The locks open sessions of
 * their own with them and never use the client's pool.
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
  /** The client's parsed options (`sql.options`). */
  readonly options: object;
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
   * Your own `postgres` client instead of `url`: the locks connect where
   * and as it does (its host, port, database, user, password, TLS and
   * `socket` factory), on sessions of their own, as with `url`. Its pool is
   * never used: no lock, setting or lost session ever stays on one of your
   * connections, and your pool's size does not matter.
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
  const sql = o.sql as { options?: { host?: unknown } } | undefined;
  if (sql !== undefined && !Array.isArray(sql?.options?.host)) {
    throw new TypeError(
      `Option "sql" must be a client of the postgres package (with its options), got ${
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
    return state === "granted"
      ? Deno.env.get("DATABASE_URL") || undefined
      : undefined;
  } catch {
    return undefined;
  }
}
