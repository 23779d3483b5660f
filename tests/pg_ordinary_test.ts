// The PostgreSQL locks in ordinary use: waits of any length, a user's own
// client that never gets a lock, a setting or a crash, aborts that race a
// grant, a kept session that died, and errors that say what happened.
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  PostgresConnectionError,
  PostgresLock,
  postgresLocked,
  type PostgresLockOptions,
  PostgresReaderWriterLock,
  PostgresSemaphore,
} from "../postgres/mod.ts";
import { run, sleep } from "./_helpers.ts";
import {
  eventually,
  holderPid,
  locksOn,
  pgTest,
  query,
  server,
  unique,
  upstream,
  url,
} from "./_pg_helpers.ts";
import { Proxy } from "./_proxy.ts";

/** A client of the user's own, closed at the end of the block. */
function userClient(max = 2) {
  const sql = postgres(url, { max, onnotice: () => {} });
  return Object.assign(sql, {
    [Symbol.asyncDispose]: () => sql.end({ timeout: 0 }),
  });
}

type Kind = "lock" | "read" | "write" | "semaphore" | "decorator";
const KINDS: Kind[] = ["lock", "read", "write", "semaphore", "decorator"];

/**
 * Waits for `name` as `kind` with `options` (a wait bounded by `timeout`)
 * and lets go at once; true when it got it.
 */
async function waitAs(
  kind: Kind,
  name: string,
  options: PostgresLockOptions,
  timeout: number,
): Promise<boolean> {
  if (kind === "decorator") {
    const call = postgresLocked(name, { ...options, timeout })(() => true);
    return await call().catch(() => false);
  }
  await using lock = kind === "semaphore"
    ? new PostgresSemaphore(name, { ...options, slots: 1 })
    : kind === "lock"
    ? new PostgresLock(name, options)
    : new PostgresReaderWriterLock(name, options);
  const got = lock instanceof PostgresReaderWriterLock
    ? await (kind === "read"
      ? lock.acquireReadLock({ timeout })
      : lock.acquireWriteLock({ timeout }))
    : await lock.acquire({ timeout });
  // Held, and still held a moment later: the wait was no loss.
  const valid = got && lock.isValid();
  await sleep(50);
  return valid && lock.isValid();
}

/** The lock that a waiter of `kind` on `name` waits for. */
function heldName(kind: Kind, name: string): string {
  return kind === "semaphore" ? `${name}.0` : name;
}

for (const which of ["url", "sql"] as const) {
  pgTest(
    `every kind waits 3 leases over a 5 ms link and gets the lock (${which}, 10 runs each)`,
    async () => {
      const lease = 1_000;
      await using proxy = new Proxy(upstream(), 5);
      const viaProxy = proxy.urlFor(url);
      const client = postgres(viaProxy, { max: 1, onnotice: () => {} });
      const options: PostgresLockOptions = which === "url"
        ? { url: viaProxy, lease }
        : { sql: client, lease };
      try {
        const runs = KINDS.flatMap((kind) =>
          Array.from({ length: 10 }, () => ({ kind, name: unique("long") }))
        );
        const holders = await Promise.all(runs.map(async ({ kind, name }) => {
          const holder = new PostgresLock(heldName(kind, name), { url });
          assert.equal(await holder.acquire(), true);
          return holder;
        }));
        const waits = runs.map(({ kind, name }) =>
          waitAs(kind, name, options, 10_000)
        );
        await sleep(lease * 3);
        await Promise.all(holders.map((holder) => holder.release()));
        const got = await Promise.all(waits);
        const failed = runs.filter((_, i) => !got[i]).map((r) => r.kind);
        assert.deepEqual(failed, [], `waits that failed: ${failed}`);
      } finally {
        await client.end({ timeout: 0 });
      }
    },
  );
}

pgTest(
  "a user's client: its backend terminated under a hold, then the heartbeat, release() and a new acquire(): the process lives on, the signal names the termination",
  async () => {
    await using sql = userClient();
    const name = unique("terminated");
    const lease = 1_500;
    const lock = new PostgresLock(name, { sql, lease });
    assert.equal(await lock.acquire(), true);
    const signal = lock.signal;
    await query(`SELECT pg_terminate_backend(${await holderPid(name)})`);
    await eventually(() => Promise.resolve(signal.aborted), "lost", 5_000);
    assert.match(
      String(signal.reason),
      /Lost the PostgreSQL lock "terminated-[^"]*" on the server at [^ ]+: the server ended the session: terminating connection due to administrator command \(57P01\)/,
    );
    // A heartbeat's time passes, then the release and a new hold.
    await sleep(lease / 2);
    assert.equal(lock.isValid(), false);
    await lock.release();
    assert.equal(await lock.acquire({ timeout: 2_000 }), true);
    await lock.release();
    // The user's client still works, and never held a lock.
    assert.equal((await sql`SELECT 1 AS one`)[0].one, 1);
  },
);

pgTest(
  "a server restart under a hold: the holder's signal aborts with the server's reason, the process lives on, a new acquire works",
  async () => {
    if (server.restart === undefined) return; // DATABASE_URL: not ours.
    await using sql = userClient();
    const name = unique("restart");
    const lock = new PostgresLock(name, { sql, lease: 2_000 });
    assert.equal(await lock.acquire(), true);
    server.restart();
    await eventually(() => Promise.resolve(lock.signal.aborted), "lost");
    assert.match(
      String(lock.signal.reason),
      /Lost the PostgreSQL lock .*: (the server ended the session: .*\(57P01\)|the connection to the server closed)/,
    );
    await lock.release();
    assert.equal(await lock.acquire({ timeout: 5_000 }), true);
    await lock.release();
  },
);

pgTest(
  "a user's client, a holder blocked for 0.95 of its lease: after release() no session holds the lock, and the client's connections keep the server's settings",
  async () => {
    await using sql = userClient(2);
    const name = unique("blocked");
    const lease = 4_000;
    const lock = new PostgresLock(name, { sql, lease });
    assert.equal(await lock.acquire(), true);
    const until = performance.now() + lease * 0.95;
    while (performance.now() < until) {
      // The event loop is blocked: no heartbeat can run.
    }
    assert.equal(lock.isValid(), false);
    assert.match(String(lock.signal.reason), /this process did not run/);
    await lock.release();
    // Well before the server's own idle timeout could end the session.
    await eventually(
      async () => (await locksOn(name)).granted === 0,
      "the lock is free",
      60,
    );
    const settings =
      "current_setting('idle_session_timeout') AS idle, current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock";
    const [defaults] = await query(`SELECT ${settings}`);
    const rows = await Promise.all(
      [1, 2].map(() => sql.begin((tx) => tx.unsafe(`SELECT ${settings}`))),
    );
    for (const [row] of rows) assert.deepEqual({ ...row }, { ...defaults });
  },
);

for (const which of ["url", "sql"] as const) {
  pgTest(
    `300 aborts racing a grant (${which}): no lock left, nothing unhandled`,
    async () => {
      await using sql = userClient();
      const options = which === "url" ? { url } : { sql };
      const name = unique("race");
      const reasons: unknown[] = [];
      const count = (event: PromiseRejectionEvent) => {
        reasons.push(event.reason);
        event.preventDefault();
      };
      globalThis.addEventListener("unhandledrejection", count);
      try {
        await using a = new PostgresLock(name, { url });
        await using b = new PostgresLock(name, options);
        for (let i = 0; i < 300; i++) {
          // An orphan grant would keep the lock: the next round fails.
          assert.equal(await a.acquire({ timeout: 2_000 }), true, `round ${i}`);
          const controller = new AbortController();
          const waiting = b.acquire({ signal: controller.signal })
            .catch(() => false);
          // Queued in the server, so that the abort races the grant itself.
          await eventually(
            async () => (await locksOn(name)).waiting === 1,
            "queued",
            2_000,
          );
          const releasing = a.release();
          setTimeout(() => controller.abort(new Error("stop")), i % 4);
          await releasing;
          if (await waiting) await b.release();
        }
        await eventually(
          async () => (await locksOn(name)).granted === 0,
          "no lock left",
          2_000,
        );
        await sleep(100);
        assert.deepEqual(reasons.map(String), []);
      } finally {
        globalThis.removeEventListener("unhandledrejection", count);
      }
    },
  );
}

pgTest(
  "a kept session killed while idle is replaced at once: 50 runs, no error",
  async () => {
    const name = unique("kept");
    await using lock = new PostgresLock(name, { url });
    for (let i = 0; i < 50; i++) {
      assert.equal(await lock.acquire(), true);
      const pid = await holderPid(name);
      await lock.release();
      await query(`SELECT pg_terminate_backend(${pid})`);
      assert.equal(await lock.acquire({ timeout: 2_000 }), true, `run ${i}`);
      await lock.release();
    }
  },
);

pgTest(
  "a terminated waiter: one statement of the lock, the server once, the server's reason and advice",
  async () => {
    for (const kind of ["lock", "semaphore"] as const) {
      const name = unique("waiter");
      await using holder = new PostgresLock(heldName(kind, name), { url });
      assert.equal(await holder.acquire(), true);
      const waiting = waitAs(kind, name, { url }, 10_000).catch((e) => e);
      await eventually(
        async () => (await locksOn(heldName(kind, name))).waiting === 1,
        "waiting",
      );
      await query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE NOT granted AND locktype = 'advisory'`,
      );
      const error = await waiting;
      assert.ok(error instanceof PostgresConnectionError, String(error));
      const host = upstream().hostname;
      assert.equal(error.message.split(host).length, 2, error.message);
      assert.match(
        error.message,
        new RegExp(
          `^Lost the session while acquiring the PostgreSQL ${kind} "${name}" on the server at ${host}:\\d+: terminating connection due to administrator command \\(57P01\\)\\. The server was shut down`,
        ),
      );
      assert.equal(error.code, "57P01");
    }
  },
);

pgTest(
  "no url and no DATABASE_URL: the error says so",
  async () => {
    const result = await run(Deno.execPath(), [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      new URL("./fixtures/pg_permission.ts", import.meta.url).pathname,
    ], { DATABASE_URL: "", PGHOST: "127.0.0.1", PGPORT: "1" });
    assert.match(
      result.stdout,
      /caught PostgresConnectionError: .*No url was given and DATABASE_URL is not set/,
    );
  },
);

pgTest(
  "a missing permission is an error the caller catches, naming the flag and the URL's server",
  async () => {
    const fixture =
      new URL("./fixtures/pg_permission.ts", import.meta.url).pathname;
    const noNet = await run(Deno.execPath(), [
      "run",
      "--allow-env",
      "--allow-read",
      "--no-prompt",
      fixture,
      "postgres://app@127.0.0.1:55999/app",
    ]);
    assert.equal(noNet.code, 0, noNet.stderr);
    assert.match(
      noNet.stdout,
      /caught PostgresConnectionError: Cannot connect for the PostgreSQL lock "permission" on the server at 127\.0\.0\.1:55999: Requires net access to "127\.0\.0\.1:55999": run again with --allow-net/,
    );
    const noEnv = await run(Deno.execPath(), [
      "run",
      "--allow-net",
      "--allow-env=DATABASE_URL",
      "--allow-read",
      "--no-prompt",
      fixture,
      "postgres://app@127.0.0.1:55999/app",
    ]);
    assert.equal(noEnv.code, 0, noEnv.stderr);
    assert.match(
      noEnv.stdout,
      /caught PostgresConnectionError: .* on the server at 127\.0\.0\.1:55999: .*--allow-env/,
    );
  },
);
