// Copyright 2026 the @locks/process-lock authors. MIT license.
// The options of the PostgreSQL locks (their type, re-exported by
// postgres.ts) and the checks of names and options.

import {
  checkLogger,
  checkObject,
  checkPositive,
  describe,
} from "./_options.ts";
import type { PostgresClient, SessionOptions } from "./_pg_session.ts";
import { sessionSettings } from "./_pg_sql.ts";

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
   * The server. Each acquisition opens a session of its own (a connection,
   * a few ms on a local network) and closes it at the release.
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
  if (
    o.url !== undefined && typeof o.url !== "string" && !(o.url instanceof URL)
  ) {
    throw new TypeError(
      `Option "url" must be a string or a URL, got ${describe(o.url)}`,
    );
  }
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
  return {
    url: o.url as string | URL | undefined,
    sql: o.sql as PostgresClient | undefined,
    logger,
    settings: sessionSettings({ idle, interval, count }),
  };
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
