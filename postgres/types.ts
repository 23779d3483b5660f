// Copyright 2026 the @locks/process-lock authors. MIT license.
// The options of the PostgreSQL locks, the client they take, the key of a
// lock name, and the error that says the server could not be reached.

import { createHash } from "node:crypto";
import { describe } from "../_core/_options.ts";
import type { AcquireOptions, Logger } from "../_core/types.ts";

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
  logger?: Logger;
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
   * @default {the URL's `connect_timeout` (seconds, as libpq reads it), else 10000}
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

/**
 * The advisory-lock key of a lock name: the first 8 bytes of the SHA-256 of
 * its UTF-8 bytes, as a signed big-endian 64-bit integer. The same in every
 * version of this module and easy to compute in SQL or another language.
 *
 * @param name The lock name (a lock manager's may be empty).
 * @returns The key.
 * @throws {TypeError} If the name is not a string.
 *
 * @example Usage
 * ```ts
 * import { postgresLockKey } from "@locks/process-lock/postgres";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof postgresLockKey("nightly-backup"), "bigint");
 * ```
 */
export function postgresLockKey(name: string): bigint {
  if (typeof name !== "string") checkName(name);
  return createHash("sha256").update(name, "utf8").digest().readBigInt64BE(0);
}

/**
 * Options of the PostgreSQL decorators: the lock's and the acquire options.
 *
 * @example Usage
 * ```ts
 * import type { PostgresLockedOptions } from "@locks/process-lock/postgres";
 *
 * const options: PostgresLockedOptions = { url: "postgres://db/app", timeout: 5_000 };
 * ```
 */
export type PostgresLockedOptions = PostgresLockOptions & AcquireOptions;

/**
 * The PostgreSQL server could not be reached, refused the session, or the
 * session ended under a call: an outage, never contention. The original
 * error is the `cause`.
 *
 * @example Telling an outage from contention
 * ```ts
 * import { PostgresLock, PostgresConnectionError } from "@locks/process-lock/postgres";
 * import assert from "node:assert/strict";
 *
 * const lock = new PostgresLock("jobs", { url: "postgres://app@127.0.0.1:1/app" });
 * const error = await lock.acquire().catch((error) => error);
 * assert.ok(error instanceof PostgresConnectionError);
 * assert.equal(error.server, "127.0.0.1:1");
 * assert.equal(error.code, "ECONNREFUSED");
 * ```
 */
export class PostgresConnectionError extends Error {
  /** The server, as host:port (or the socket path). */
  readonly server: string;
  /** The server's SQLSTATE, or the client's code (`ECONNREFUSED`, ...). */
  readonly code: string | undefined;

  /**
   * Makes the error.
   *
   * @param message What happened, to whom, and what to do.
   * @param server The server, as host:port.
   * @param code The SQLSTATE or the client's code.
   * @param cause The original error.
   */
  constructor(
    message: string,
    server: string,
    code: string | undefined,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = "PostgresConnectionError";
    this.server = server;
    this.code = code;
  }
}
