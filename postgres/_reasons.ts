// Copyright 2026 the @locks/process-lock authors. MIT license.
// Why a PostgreSQL lock failed, in words: the server's last word on a
// session it ended (read off a plain connection: the client drops an error
// that comes while no query runs), and the messages of the errors, with
// their codes and advice.

import { PostgresConnectionError } from "./types.ts";

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The server's last word on a session it ended: its SQLSTATE and text. */
export interface Farewell {
  code: string | undefined;
  message: string;
}

const ERROR_RESPONSE = 0x45; // "E"
/** Messages the server sends on its own, not in answer to a query. */
const UNASKED = new Set([ERROR_RESPONSE, 0x4e, 0x53, 0x41]); // E, N, S, A
const HEADER_BYTES = 5;
/** Longer error messages are skipped, not kept. */
const MAX_ERROR_BYTES = 16_384;

/**
 * Follows the server's side of the protocol (a type byte and a 32-bit
 * length per message) and keeps the last ErrorResponse that ends the
 * session (FATAL or PANIC).
 */
export class FarewellReader {
  /** The last FATAL error the server sent, if any. */
  last: Farewell | undefined;
  /** How many answers the server sent (messages but errors and notices). */
  answers = 0;
  /** Whether it is fed (a plain connection): else it knows nothing. */
  reading = false;
  readonly #header = new Uint8Array(HEADER_BYTES);
  #headerBytes = 0;
  #left = 0;
  #body: Uint8Array | undefined;

  /** Takes the next bytes the server sent. */
  feed(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#left > 0) {
        const n = Math.min(this.#left, chunk.length - at);
        const body = this.#body;
        body?.set(chunk.subarray(at, at + n), body.length - this.#left);
        at += n;
        this.#left -= n;
        if (this.#left === 0 && body !== undefined) this.#read(body);
        continue;
      }
      this.#header[this.#headerBytes++] = chunk[at++];
      if (this.#headerBytes === HEADER_BYTES) this.#start();
    }
  }

  #start(): void {
    this.#headerBytes = 0;
    const view = new DataView(this.#header.buffer);
    this.#left = Math.max(0, view.getUint32(1) - 4);
    if (!UNASKED.has(this.#header[0])) this.answers++;
    const keep = this.#header[0] === ERROR_RESPONSE &&
      this.#left <= MAX_ERROR_BYTES;
    this.#body = keep ? new Uint8Array(this.#left) : undefined;
    if (this.#left === 0 && this.#body !== undefined) this.#read(this.#body);
  }

  /** An ErrorResponse body: fields of a type byte and a text each. */
  #read(body: Uint8Array): void {
    this.#body = undefined;
    const fields = new Map<number, string>();
    const text = new TextDecoder();
    for (let at = 0; at < body.length && body[at] !== 0;) {
      const end = body.indexOf(0, at + 1);
      if (end < 0) break;
      fields.set(body[at], text.decode(body.subarray(at + 1, end)));
      at = end + 1;
    }
    // "V": the severity, not translated ("S" before PostgreSQL 9.6).
    const severity = fields.get(0x56) ?? fields.get(0x53);
    if (severity !== "FATAL" && severity !== "PANIC") return;
    this.last = {
      code: fields.get(0x43), // "C"
      message: fields.get(0x4d) ?? "the server ended the session", // "M"
    };
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

/**
 * The error to report for a failure on `connection`: the server's own
 * reason when it ended the session (a FATAL message it sent), else `error`.
 */
export function serverReason(
  connection: { readonly farewell: Farewell | undefined },
  error: unknown,
): unknown {
  const farewell = connection.farewell;
  if (farewell === undefined || SQLSTATE.test(codeOf(error) ?? "")) {
    return error;
  }
  return Object.assign(new Error(farewell.message), {
    code: farewell.code,
    cause: error,
  });
}
