// Copyright 2026 the @locks/process-lock authors. MIT license.
// The PostgreSQL session of one hold: opened by the lock (with `url`) or
// reserved from the user's client (`sql`), told when it is lost; the lock
// statement raced against an abort; the unlock; and the close.

// Pinned here, so that the module loads from a clone, a plain file import or
// an installed command without this package's deno.json (which pins the same
// version for the tests; a test checks that the two agree).
// deno-lint-ignore no-import-prefix
import postgres from "npm:postgres@3.4.9";
import type { LockMode, ResolvedAcquireOptions } from "./_options.ts";
import { databaseUrl } from "./_pg_options.ts";
import { lockStatement, RESET_SETTINGS, unlockStatement } from "./_pg_sql.ts";

/**
 * One server session, as a `postgres` client's reserved connection gives
 * it: simple queries, and giving the connection back.
 *
 * @example A reserved connection of the `postgres` client
 * ```ts ignore
 * import postgres from "postgres";
 * import type { PostgresSession } from "@locks/process-lock/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const session: PostgresSession = await sql.reserve();
 * session.release();
 * ```
 */
export interface PostgresSession {
  /**
   * Runs a query in the simple protocol (several statements allowed).
   *
   * @param query The SQL text.
   * @returns The rows, as a promise that can be cancelled.
   */
  unsafe(
    query: string,
  ): Promise<ArrayLike<Record<string, unknown>>> & { cancel(): unknown };
  /** Gives the connection back to its pool. */
  release(): void;
}

/**
 * A client that can reserve a session: the `postgres` package's `sql`.
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
  /**
   * Reserves one connection of the pool.
   *
   * @returns The session.
   */
  reserve(): Promise<PostgresSession>;
}

/** What a lock's options give each of its sessions. */
export interface SessionOptions {
  url: string | URL | undefined;
  sql: PostgresClient | undefined;
  logger: { debug(...data: unknown[]): void } | undefined;
  /** The SET statements each session runs first. */
  settings: string;
}

/** One hold: its session, and what ends it. */
export interface Hold {
  session: PostgresSession;
  mode: LockMode;
  token: bigint | undefined;
  /** Aborted when the session ends under the hold. */
  lost: AbortController;
  /** Closes a session the lock opened; gives back a reserved one. */
  close(): Promise<void>;
}

const QUERY_CANCELED = "57014";
const LOCK_NOT_AVAILABLE = "55P03";
const ABORTED = Symbol("aborted");

/** The error code of a PostgreSQL error, if it is one. */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

/** A session for one hold, before it holds anything. */
type Opened = Omit<Hold, "mode" | "token">;

/**
 * Opens a session of its own (with `url`, or `DATABASE_URL`, or the
 * client's `PG*` defaults), whose end under a hold aborts `lost`; or
 * reserves one of the user's client.
 */
async function openSession(
  name: string,
  options: SessionOptions,
): Promise<Opened> {
  const lost = new AbortController();
  if (options.sql !== undefined) {
    const session = await options.sql.reserve();
    const close = async () => {
      try {
        await session.unsafe(RESET_SETTINGS);
      } finally {
        session.release();
      }
    };
    return { session, lost, close };
  }
  let closing = false;
  const clientOptions = {
    max: 1,
    // (fetch_types stays on: without it, reserve() on a new connection
    // never resolves in postgres 3.4.9.)
    // Never close the session under a hold.
    idle_timeout: null,
    max_lifetime: null,
    prepare: false,
    onnotice: () => {},
    onclose: () => {
      if (closing) return;
      const message = `The session holding the lock "${name}" ended`;
      options.logger?.debug(message);
      lost.abort(new Error(message));
    },
    connection: { application_name: "@locks/process-lock" },
  } as unknown as postgres.Options<Record<string, never>>;
  const url = options.url ?? databaseUrl();
  const owned = url === undefined
    ? postgres(clientOptions)
    : postgres(String(url), clientOptions);
  let session: PostgresSession;
  try {
    session = await owned.reserve() as unknown as PostgresSession;
  } catch (error) {
    closing = true;
    await owned.end({ timeout: 0 });
    throw error;
  }
  const close = async () => {
    closing = true;
    session.release();
    await owned.end({ timeout: 0 });
  };
  return { session, lost, close };
}

/**
 * Runs `sql` on the session; an abort of `signal` settles at once.
 *
 * @returns The last result's `held`, or ABORTED. On an abort, a grant that
 * won the race is let go in the background: unlocked on a reserved
 * connection, and the session closed.
 */
async function lockRacingAbort(
  opened: Opened,
  sql: string,
  unlock: string,
  signal: AbortSignal,
  reserved: boolean,
): Promise<unknown> {
  const query = opened.session.unsafe(sql);
  const outcome = (async () => {
    // Several statements give one result each: the last one tells.
    const results = await query as ArrayLike<unknown>;
    const last = results[results.length - 1];
    const rows = (Array.isArray(last) ? last : results) as ArrayLike<
      Record<string, unknown>
    >;
    return rows[0]?.held;
  })();
  let onAbort = () => {};
  const aborted = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => {
      query.cancel();
      resolve(ABORTED);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
  let held: unknown;
  try {
    held = await Promise.race([outcome, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (held === ABORTED) {
    outcome.then(async (granted) => {
      if (reserved && granted !== null && granted !== undefined) {
        await opened.session.unsafe(unlock);
      }
    }).catch(() => {}).finally(() => opened.close().catch(() => {}));
  }
  return held;
}

/**
 * Takes an advisory lock on a session of its own.
 *
 * @returns The hold, or undefined when a try failed or the timeout passed.
 * @throws `signal.reason` when aborted; the client's errors.
 */
export async function acquireHold(
  name: string,
  key: bigint,
  mode: LockMode,
  options: ResolvedAcquireOptions,
  sessionOptions: SessionOptions,
  objectSignal: AbortSignal,
): Promise<Hold | undefined> {
  const { blocking, timeout } = options;
  const signal = options.signal === undefined
    ? objectSignal
    : AbortSignal.any([options.signal, objectSignal]);
  signal.throwIfAborted();
  const deadline = performance.now() + (timeout ?? Infinity);
  const opened = await openSession(name, sessionOptions);
  // The time left once connected; none left: one try.
  const left = Math.floor(deadline - performance.now());
  const once = !blocking || left < 1;
  const sql = lockStatement(
    sessionOptions.settings,
    mode,
    key,
    once ? undefined : Number.isFinite(left) ? left : 0,
  );
  const verb = once ? "Trying" : "Waiting for";
  sessionOptions.logger?.debug(`${verb} the ${mode} lock "${name}" (${key})`);
  if (signal.aborted) {
    // Aborted while connecting.
    await opened.close().catch(() => {});
    throw signal.reason;
  }
  let held: unknown;
  try {
    held = await lockRacingAbort(
      opened,
      sql,
      unlockStatement(mode, key),
      signal,
      sessionOptions.sql !== undefined,
    );
  } catch (error) {
    await opened.close().catch(() => {});
    const code = codeOf(error);
    if (code !== LOCK_NOT_AVAILABLE && code !== QUERY_CANCELED) throw error;
    sessionOptions.logger?.debug(
      `Gave up on the PostgreSQL lock "${name}" after ${timeout} ms`,
    );
    return undefined;
  }
  if (held === ABORTED) throw signal.reason;
  if (held === null || held === undefined) {
    await opened.close().catch(() => {});
    return undefined;
  }
  sessionOptions.logger?.debug(`Acquired the PostgreSQL lock "${name}"`);
  const token = typeof held === "string" && held !== ""
    ? BigInt(held)
    : undefined;
  return { ...opened, mode, token };
}

/** Unlocks and ends a hold. */
export async function releaseHold(key: bigint, hold: Hold): Promise<void> {
  try {
    if (!hold.lost.signal.aborted) {
      await hold.session.unsafe(unlockStatement(hold.mode, key));
    }
  } finally {
    await hold.close();
  }
}
