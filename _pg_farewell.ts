// Copyright 2026 the @locks/process-lock authors. MIT license.
// Reads the server's error messages off a plain (not TLS) connection, so
// that a session the server ends says why: the client drops an error that
// comes while no query runs, and reports a closed socket without the
// server's reason.

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
 * length per message) and keeps the last ErrorResponse that ends the session (FATAL or PANIC).
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
