// Copyright 2026 the @locks/process-lock authors. MIT license.
// Errors of the PostgreSQL locks that say what happened: the lock, the
// server (host:port, never the password), the server's reason and code, and
// what to do.

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
