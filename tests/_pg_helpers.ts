// The PostgreSQL tests' server and helpers: DATABASE_URL, or a throwaway
// cluster from the machine's PostgreSQL binaries. Without either the tests
// are skipped with the reason, unless PROCESS_LOCK_REQUIRE_POSTGRES is set
// (as CI does): then they fail.
import postgres from "postgres";
import { closeIdleSessions, postgresLockKey } from "../postgres/mod.ts";
import { sleep } from "./_helpers.ts";
import { pgServer, postgresRequired } from "./_pg_server.ts";

export const server = await pgServer();
const required = postgresRequired();
if (server.reason !== undefined) {
  console.log(`PostgreSQL tests skipped: ${server.reason}`);
}
const ignore = server.reason !== undefined && !required;
export const url = server.url;
/** The server's host and port, for a test proxy in front of it. */
export const upstream = () => {
  const u = new URL(url);
  return { hostname: u.hostname, port: Number(u.port || 5432) };
};
export const PERMS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
];

export function pgTest(name: string, fn: () => Promise<void> | void): void {
  Deno.test({
    name: `postgres: ${name}`,
    ignore,
    // The postgres client keeps timers of its own that outlive a closed
    // connection by a moment; the resource sanitizer (sockets, files) stays.
    sanitizeOps: false,
    fn: async () => {
      if (server.reason !== undefined) {
        throw new Error(`No PostgreSQL server: ${server.reason}`);
      }
      await fn();
      await closeIdleSessions();
      // Let the client's own timers (closing sockets) run out.
      await sleep(150);
    },
  });
}

let counter = 0;
/** A lock name of its own for each test. */
export const unique = (what: string) => `${what}-${Deno.pid}-${++counter}`;

/** Runs `query` on a short-lived connection of its own. */
export async function query<T extends Record<string, unknown>>(
  text: string,
): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return [...await sql.unsafe(text)] as unknown as T[];
  } finally {
    await sql.end({ timeout: 0 });
  }
}

/** The advisory locks on `name`'s key: granted and waiting. */
export async function locksOn(name: string) {
  const rows = await query<{ granted: boolean }>(
    `SELECT granted FROM pg_locks WHERE ${lockOn(name)}`,
  );
  return {
    granted: rows.filter((r) => r.granted).length,
    waiting: rows.filter((r) => !r.granted).length,
  };
}

/** The pg_locks condition of `name`'s advisory lock (its documented key). */
function lockOn(name: string): string {
  const key = postgresLockKey(name);
  return `locktype = 'advisory' AND classid = ${
    key >> 32n & 0xffffffffn
  }::oid AND objid = ${key & 0xffffffffn}::oid AND objsubid = 1`;
}

/** The server pid of the session holding `name`'s advisory lock. */
export async function holderPid(name: string): Promise<number> {
  const [row] = await query<{ pid: number }>(
    `SELECT pid FROM pg_locks WHERE granted AND ${lockOn(name)}`,
  );
  if (row === undefined) throw new Error(`Nobody holds "${name}"`);
  return row.pid;
}

/** Sessions that this module opened, other than idle ones of the tests. */
export async function lockSessions(): Promise<number> {
  const rows = await query<{ n: string }>(
    "SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name LIKE '@locks/process-lock%'",
  );
  return Number(rows[0].n);
}

/** Whether `promise` settles within `ms`. */
export function settledWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`Never: ${what}`);
    await sleep(50);
  }
}
