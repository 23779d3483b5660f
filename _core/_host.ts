// Copyright 2026 the @locks/process-lock authors. MIT license.
// This machine's name, as holders record it (in a lock file's owner record,
// or a PostgreSQL session's application name), and the ids that name a
// process or a lock manager in `query()`.

let hostnameCache: string | undefined;

/** This machine's name, or "" when Deno has no `--allow-sys=hostname`. */
export function hostname(): string {
  if (hostnameCache === undefined) {
    hostnameCache = "";
    try {
      const state = Deno.permissions.querySync({
        name: "sys",
        kind: "hostname",
      }).state;
      if (state === "granted") hostnameCache = Deno.hostname();
    } catch {
      // No permission API or no host name: leave it empty.
    }
  }
  return hostnameCache;
}

/** A process as `query()` names it: "pid@host" (or "pid" with no host). */
export function processId(pid: number, host: string): string {
  return `${pid}${host ? `@${host}` : ""}`;
}

let managers = 0;

/** A new lock manager's id: this process, and the manager's number in it
 * (one count for every backend, so no two managers share an id). */
export function newClientId(): string {
  return `${processId(Deno.pid, hostname())}/${++managers}`;
}
