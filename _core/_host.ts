// Copyright 2026 the @locks/process-lock authors. MIT license.
// This machine's name, as holders record it (in a lock file's owner record,
// or a PostgreSQL session's application name).

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
