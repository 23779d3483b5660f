// Copyright 2026 the @locks/process-lock authors. MIT license.
// The command line's --status (who holds a lock, how, and how many wait,
// as text or one line of JSON), and how its messages name a holder.

import type { Parsed } from "./_args.ts";

/** A holder of a lock, whatever the backend. */
export type Holder = {
  pid?: number;
  hostname: string;
  since?: Date;
  exclusive?: boolean;
};

/** A holder as the messages name it: "pid 12 on host since <time>". */
export function holderText(holder: Holder): string {
  const host = holder.hostname ? ` on ${holder.hostname}` : "";
  const who = holder.pid === undefined ? "a client" : `pid ${holder.pid}`;
  const since = holder.since ? ` since ${holder.since.toISOString()}` : "";
  return `${who}${host}${since}`;
}

/** What --status reports, whatever the backend. */
export interface Status {
  held: false | "shared" | "exclusive";
  holders: Holder[];
  waiting: number;
}

/**
 * Prints the status of the lock that `parsed` names, as `read` reads it.
 *
 * @returns 0 when the lock is free, 1 when it is held.
 * @throws What reading the lock file or the server throws.
 */
export async function showStatus(
  parsed: Parsed,
  read: (parsed: Parsed) => Promise<Status>,
): Promise<number> {
  const { lockfile, postgres } = parsed;
  const status = await read(parsed);
  console.log(
    parsed.json
      ? statusJson(lockfile, status)
      : statusText(lockfile, status, postgres !== undefined),
  );
  return status.held ? 1 : 0;
}

/** One line of JSON: `{ lock, held, holders, waiting }`. */
function statusJson(lock: string, status: Status): string {
  const holders = status.holders.map((h) => ({
    pid: h.pid ?? null,
    hostname: h.hostname,
    since: h.since?.toISOString() ?? null,
    mode: h.exclusive ? "exclusive" : "shared",
  }));
  return JSON.stringify({ lock, ...status, holders });
}

/** "<lock>: free", or who holds it, how, and how many wait. */
function statusText(lock: string, status: Status, postgres: boolean): string {
  if (!status.held) return `${lock}: free`;
  const how = status.held === "exclusive" ? "exclusively" : "shared";
  const who = status.holders.length > 0
    ? ` by ${status.holders.map(holderText).join(", ")}`
    : status.held === "shared"
    ? " (readers record nothing: with --allow-all the kernel's list is read)"
    : "";
  const waiting = postgres || status.waiting === 0
    ? `${status.waiting} waiting`
    : "a process waits";
  return `${lock}: held ${how}${who}; ${waiting}`;
}
