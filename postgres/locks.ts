// Copyright 2026 the @locks/process-lock authors. MIT license.
// The Web Locks API across machines on PostgreSQL's advisory locks: the
// manager, and what it asks of the server (the requests of every session,
// the names of their keys, ending a holder's session for a steal).

import { LockManagerCore } from "../_core/_manager.ts";
import type { ManagerBackend } from "../_core/_backend.ts";
import { hostname, newClientId, processId } from "../_core/_host.ts";
import {
  type LockInfo,
  LockManager,
  type LockSnapshot,
} from "../_core/web_locks.ts";
import {
  postgresBackend,
  resolvePostgresOptions,
  runStatement,
} from "./_backend.ts";
import type { SessionOptions } from "./_connect.ts";
import type { Hold } from "./_session.ts";
import {
  holderOfName,
  registerNameStatement,
  requestsStatement,
  terminateHoldersStatement,
} from "./_sql.ts";
import { postgresLockKey, type PostgresLockOptions } from "./types.ts";

/** How long (ms) a manager's own statement (a query, a steal) may take. */
const STATEMENT_MS = 10_000;
/** The names this process has recorded in the server (bounded). */
const registered = new Set<bigint>();
const MAX_REGISTERED = 10_000;
/** The requests of this process's managers that have some, by client id. */
const local = new Map<string, () => LockSnapshot>();

/**
 * The Web Locks API (`navigator.locks`) across processes and machines, on
 * PostgreSQL's advisory locks: the same rules as `FileLockManager` within
 * one manager; across managers the server's lock queue decides (a waiting
 * exclusive request queues the shared ones behind it).
 *
 * - A name's lock is the advisory lock of `postgresLockKey(name)`, the
 *   key of `PostgresLock` of the same name: the two exclude each other.
 *   Each grant is held on a session of its own, with the lease, the
 *   `signal` and the fencing `token` (`lock.token`) of `PostgresLock`; a
 *   lost hold aborts `lock.signal` and rejects `request()` with an
 *   `AbortError`. A crashed holder's lock is freed within the lease.
 * - `steal` ends the sessions that hold the lock (`pg_terminate_backend`,
 *   which needs the same role or `pg_signal_backend`): their holders'
 *   `lock.signal` aborts and their `request()` rejects with an
 *   `AbortError`; then the lock is granted.
 * - `query()` asks the server: `pg_locks` (granted or waiting, mode) joined
 *   with `pg_stat_activity` (whose application name says each session's
 *   pid and host) and with the table `process_lock_names` that managers
 *   fill with the name of each key they use (made on first use, when the
 *   role may create it: else other processes' requests are not listed).
 *   One statement, on a kept session. Another process's requests are
 *   listed under the client id `pid@host` (one per process, not per
 *   manager); a key no manager has named (a `PostgresLock` of a name no
 *   manager used, a semaphore) is left out.
 *
 * @example Usage
 * ```ts ignore
 * import { PostgresLockManager } from "@locks/process-lock/postgres";
 *
 * const locks = new PostgresLockManager({ url: Deno.env.get("DATABASE_URL") });
 * await locks.request("db-migrate", async (lock) => {
 *   // lock.token fences the writes of this holder
 * });
 * ```
 */
export class PostgresLockManager extends LockManager {
  /**
   * Makes a manager of the locks of one database.
   *
   * @param options As for `PostgresLock`: `url` or `sql`, `lease`,
   * `connectTimeout`, keepalives, `logger`.
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} If a time is out of range.
   */
  constructor(options?: PostgresLockOptions) {
    const session = resolvePostgresOptions(options);
    const clientId = newClientId();
    super(new LockManagerCore(managerBackend(session, clientId), clientId));
  }
}

/** PostgreSQL as a manager's backend. */
function managerBackend(
  options: SessionOptions,
  clientId: string,
): ManagerBackend<Hold> {
  const lockName = (name: string) => `the PostgreSQL lock "${name}"`;
  return {
    lockOf(name) {
      const key = postgresLockKey(name);
      register(options, key, name);
      return postgresBackend(lockName(name), key, options);
    },
    tokenOf: (hold) => hold.mode === "exclusive" ? hold.token : undefined,
    async stealFromOthers(name) {
      const key = postgresLockKey(name);
      const statement = terminateHoldersStatement(key);
      const what = "Cannot steal";
      await runStatement(
        options,
        what,
        lockName(name),
        statement,
        STATEMENT_MS,
      );
    },
    queryOthers: (id) => queryOthers(options, id),
    publish(count, own) {
      if (count === 0) local.delete(clientId);
      else local.set(clientId, own);
    },
  };
}

/** Records the name of `key` in the server, once per process, in the
 * background (a failure only hides the name from other processes'
 * `query()`). */
function register(options: SessionOptions, key: bigint, name: string): void {
  if (registered.has(key)) return;
  if (registered.size >= MAX_REGISTERED) registered.clear();
  registered.add(key);
  const statement = registerNameStatement(key, name);
  runStatement(options, "Cannot name", `"${name}"`, statement, STATEMENT_MS)
    .catch((error) => {
      // Not tried again (a role that may not create the table would pay a
      // connection per request): the name stays out of other processes'
      // query() for this process's life.
      options.logger?.debug(`Could not record the lock name: ${error}`);
    });
}

/** The requests of other processes (from the server) and of this
 * process's other managers. */
async function queryOthers(
  options: SessionOptions,
  clientId: string,
): Promise<LockSnapshot> {
  const snapshot: LockSnapshot = { held: [], pending: [] };
  for (const [id, own] of local) {
    if (id === clientId) continue;
    const { held, pending } = own();
    snapshot.held.push(...held);
    snapshot.pending.push(...pending);
  }
  let rows;
  try {
    rows = await runStatement(
      options,
      "Cannot query",
      "the PostgreSQL locks",
      requestsStatement(),
      STATEMENT_MS,
    );
  } catch (error) {
    // No manager has named a key yet: nothing to list.
    if ((error as { code?: string }).code === "42P01") return snapshot;
    throw error;
  }
  for (const row of Array.from(rows)) {
    const { pid, hostname: host } = holderOfName(String(row.app));
    if (pid === undefined || (pid === Deno.pid && host === hostname())) {
      continue; // not a lock of this project, or one of this process
    }
    const info: LockInfo = {
      name: JSON.parse(String(row.name)),
      mode: row.exclusive ? "exclusive" : "shared",
      clientId: processId(pid, host),
    };
    (row.granted ? snapshot.held : snapshot.pending).push(info);
  }
  return snapshot;
}
