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

/** What to do about a failure, by its code. */
const ADVICE: Record<string, string> = {
  ECONNREFUSED: "Start the server, or check the host and port in the URL",
  ENOTFOUND: "Check the host name in the URL",
  EAI_AGAIN: "Check the host name in the URL and the DNS",
  ECONNRESET: "Check that the URL names a PostgreSQL server",
  TIMEOUT:
    "Check that the host is reachable and that the URL names a PostgreSQL server",
  CONNECTION_CLOSED:
    "The server ended the session (a restart, a crash or pg_terminate_backend): try again",
  "3D000": "Check the database name in the URL",
  "28P01": "Check the user name and password",
  "28000": "Check the user name, and pg_hba.conf on the server",
  "53300": "Raise max_connections on the server, or hold fewer locks at once",
  "57P01": "The server was shut down or the session terminated: try again",
  "57P02": "The server was shut down or the session terminated: try again",
  "57P03": "The server is starting or shutting down: try again later",
  "08P01":
    "Check that the URL names a PostgreSQL server; behind PgBouncer, use session pooling (transaction mode cannot carry session locks)",
  "0A000":
    "Behind PgBouncer, use session pooling (transaction mode cannot carry session locks)",
};

/** The client's words for its own connection errors (they name the server). */
const CLIENT_REASONS: Record<string, string> = {
  CONNECTION_CLOSED: "the server closed the connection",
  CONNECTION_DESTROYED: "the connection was closed",
  CONNECTION_ENDED: "the connection was closed",
  CONNECT_TIMEOUT: "no answer to connecting",
};

/** The code of an error: the server's SQLSTATE or the client's code. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * An error about `lock` (`the PostgreSQL lock "jobs"`) on `server`: `what`
 * happened because of `error`, with its reason, its code and advice
 * (`advice` replaces the advice of the code).
 */
export function postgresError(
  what: string,
  lock: string,
  server: string,
  error: unknown,
  advice?: string,
): PostgresConnectionError {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const reason = (code !== undefined && CLIENT_REASONS[code]) || message;
  const tip = advice ?? (code === undefined ? undefined : ADVICE[code]);
  const text = `${what} ${lock} on the server at ${
    server || "the default address"
  }: ${reason}${
    code !== undefined && !reason.includes(code) ? ` (${code})` : ""
  }${tip === undefined ? "" : `. ${tip}`}`;
  return new PostgresConnectionError(text, server, code, error);
}

/** The error of a step that did not finish within `ms` milliseconds. */
export function timedOut(step: string, ms: number): Error {
  return Object.assign(
    new Error(`no answer to ${step} within ${Math.round(ms)} ms`),
    { code: "TIMEOUT" },
  );
}
