// PostgreSQL advisory locks against a real server (see _pg_helpers.ts).
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  LockTimeoutError,
  PostgresLock,
  postgresLocked,
  postgresLockKey,
  PostgresReaderWriterLock,
  postgresReadLocked,
  postgresWriteLocked,
  readPostgresLockHolders,
} from "../postgres/mod.ts";
import { fixture, run, sleep, tempDir } from "./_helpers.ts";
import {
  eventually,
  lockSessions,
  locksOn,
  PERMS,
  pgTest,
  query,
  settledWithin,
  unique,
  url,
} from "./_pg_helpers.ts";

pgTest(
  "acquire, try, timeout and release; the lock shows in pg_locks under its documented key",
  async () => {
    const name = unique("basic");
    // The key is reproducible in SQL.
    const [{ key }] = await query<{ key: string }>(
      `SELECT (('x' || left(encode(sha256(convert_to('${name}', 'UTF8')), 'hex'), 16))::bit(64)::bigint)::text AS key`,
    );
    assert.equal(BigInt(key), postgresLockKey(name));
    await using a = new PostgresLock(name, { url });
    await using b = new PostgresLock(name, { url });
    assert.equal(await a.acquire(), true);
    assert.equal(a.acquired, true);
    assert.equal(a.isValid(), true);
    assert.deepEqual(await locksOn(name), { granted: 1, waiting: 0 });
    assert.equal(await b.acquire({ blocking: false }), false);
    assert.equal(await b.acquire({ timeout: 0 }), false);
    const start = performance.now();
    assert.equal(await b.acquire({ timeout: 300 }), false);
    const waited = performance.now() - start;
    assert.ok(waited >= 280 && waited < 2_000, `waited ${waited} ms`);
    await a.release();
    assert.deepEqual(await locksOn(name), { granted: 0, waiting: 0 });
    assert.equal(await b.acquire({ timeout: 0 }), true);
    await b.release();
    await assert.rejects(b.release(), /not held/);
  },
);

pgTest(
  "a second acquire on an object that holds the lock waits for its release",
  async () => {
    const name = unique("mutex");
    await using lock = new PostgresLock(name, { url });
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.acquire({ timeout: 200 }), false);
    const second = lock.acquire();
    assert.equal(await settledWithin(second, 300), false, "it waits");
    await lock.release();
    assert.equal(await second, true);
    assert.equal(lock.acquired, true);
    await lock.release();
  },
);

pgTest(
  "an abort while queued in the server: the call rejects, and with a user's client a grant that won the race is unlocked",
  async () => {
    const name = unique("abort-queued");
    const reason = new Error("stop");
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      for (const client of [{ url }, { sql }]) {
        await using holder = new PostgresLock(name, { url });
        // Aborted while it waits in the server's queue.
        await holder.acquire();
        await using lock = new PostgresLock(name, client);
        const controller = new AbortController();
        const pending = lock.acquire({ signal: controller.signal });
        await eventually(
          async () => (await locksOn(name)).waiting === 1,
          "the call waits in the server",
        );
        controller.abort(reason);
        await assert.rejects(pending, (e) => e === reason);
        await eventually(
          async () => (await locksOn(name)).waiting === 0,
          "the wait left the queue",
        );
        // Aborted as the lock is granted: whoever wins, nothing stays held.
        // The grant wins some rounds (about a third here), the cancel the
        // others; a user's client gets rounds enough for both to happen.
        const rounds = "sql" in client ? 20 : 5;
        for (let i = 0; i < rounds; i++) {
          const c = new AbortController();
          const racing = lock.acquire({ signal: c.signal });
          await eventually(
            async () => (await locksOn(name)).waiting === 1,
            "the call waits in the server",
          );
          await holder.release();
          c.abort(reason);
          await racing.then(() => lock.release(), () => {});
          await eventually(
            async () => (await locksOn(name)).granted === 0,
            `no lock held after race ${i} (${JSON.stringify(client)})`,
          );
          await holder.acquire();
        }
        await holder.release();
      }
      // The user's client is usable and holds nothing.
      assert.equal((await sql`SELECT 1 AS one`)[0].one, 1);
    } finally {
      await sql.end({ timeout: 0 });
    }
  },
);

pgTest(
  "reader-writer: signal follows the held lock; postgresReadLocked shares; disposal stops pending acquires",
  async () => {
    const name = unique("rw-signal");
    await using rw = new PostgresReaderWriterLock(name, { url });
    assert.equal(rw.signal.aborted, true, "nothing held");
    assert.equal(await rw.acquireReadLock(), true);
    const signal = rw.signal;
    assert.equal(signal.aborted, false);
    const aborted = new Promise((resolve) =>
      signal.addEventListener("abort", resolve)
    );
    await query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE '@locks/process-lock%' AND pid <> pg_backend_pid()",
    );
    assert.ok(await settledWithin(aborted, 10_000), "the loss was never told");
    assert.equal(rw.isValid(), false);
    await rw.releaseReadLock();

    // Readers share through the decorator, a writer waits for them.
    let inside = 0;
    let most = 0;
    const read = postgresReadLocked(name, { url })(async () => {
      most = Math.max(most, ++inside);
      await sleep(300);
      inside--;
    });
    await Promise.all([read(), read()]);
    assert.equal(most, 2);

    await using holder = new PostgresLock(name, { url });
    await holder.acquire();
    const other = new PostgresReaderWriterLock(name, { url });
    const pendingRead = other.acquireReadLock();
    const pendingWrite = other.acquireWriteLock();
    await eventually(
      async () => (await locksOn(name)).waiting === 2,
      "both calls wait in the server",
    );
    await other[Symbol.asyncDispose]();
    await assert.rejects(pendingRead, /disposed/);
    await assert.rejects(pendingWrite, /disposed/);
    await holder.release();
    await eventually(
      async () => (await locksOn(name)).waiting === 0,
      "the disposed calls left the queue",
    );
    assert.equal((await locksOn(name)).granted, 0);
  },
);

pgTest(
  "timeout and abort leave nothing held or open, and a grant never outlives an abort",
  async () => {
    const name = unique("abort");
    await using holder = new PostgresLock(name, { url });
    await holder.acquire();
    const before = await lockSessions();
    await using lock = new PostgresLock(name, { url });
    assert.equal(await lock.acquire({ timeout: 100 }), false);
    const controller = new AbortController();
    const reason = new Error("stop");
    setTimeout(() => controller.abort(reason), 100);
    const start = performance.now();
    await assert.rejects(
      lock.acquire({ signal: controller.signal }),
      (e) => e === reason,
    );
    assert.ok(performance.now() - start < 2_000);
    assert.equal(lock.acquired, false);
    await eventually(
      async () => (await locksOn(name)).waiting === 0,
      "the waits left the server's queue",
    );
    await eventually(
      async () => (await lockSessions()) === before,
      "the sessions of the aborted calls ended",
    );
    await holder.release();
    // Abort after the grant raced the cancel: the lock is let go all the same.
    for (let i = 0; i < 5; i++) {
      const c = new AbortController();
      const pending = lock.acquire({ signal: c.signal });
      c.abort(reason);
      await pending.then(async (ok) => {
        if (ok) await lock.release();
      }, () => {});
    }
    await eventually(
      async () => (await locksOn(name)).granted === 0,
      "no lock held after the aborts",
    );
  },
);

pgTest("readers share, a writer excludes, across processes", async () => {
  const name = unique("rw");
  await using reader = fixture("pg_hold.ts", ["read", url, name, "stdin"], {
    permissions: PERMS,
  });
  await reader.waitFor("acquired");
  const rw = new PostgresReaderWriterLock(name, { url });
  assert.equal(await rw.acquireReadLock({ timeout: 0 }), true);
  assert.equal(rw.readers, 1);
  await rw.releaseReadLock();
  assert.equal(await rw.acquireWriteLock({ timeout: 0 }), false);
  const writing = rw.acquireWriteLock({ timeout: 10_000 });
  await sleep(100);
  await reader.closeStdin();
  assert.equal(await writing, true);
  assert.equal(rw.writing, true);
  assert.equal(typeof rw.token, "bigint");
  await using other = fixture(
    "pg_hold.ts",
    ["read", url, name, "0", JSON.stringify({ timeout: 0 })],
    { permissions: PERMS },
  );
  assert.equal(await other.waitFor("not-acquired"), "not-acquired");
  await rw.releaseWriteLock();
  {
    await using _ = await rw.readLock();
    await assert.rejects(rw.writeLock({ timeout: 0 }), LockTimeoutError);
  }
  assert.equal(rw.readers, 0);
  await reader.end();
});

pgTest(
  "processes exclude each other: a counter with no lost update",
  async () => {
    await using dir = await tempDir();
    const name = unique("counter");
    const file = `${dir.path}/counter`;
    Deno.writeTextFileSync(file, "0");
    const n = 25;
    const children = Array.from(
      { length: 4 },
      () =>
        fixture("pg_hold.ts", ["counter", url, name, file, String(n)], {
          permissions: PERMS,
        }),
    );
    for (const child of children) {
      await child.waitFor("done", 60_000);
      await child.end();
    }
    assert.equal(Number(Deno.readTextFileSync(file)), 4 * n);
  },
);

pgTest(
  "a holder killed with SIGKILL frees the lock; a killed waiter holds nobody up",
  async () => {
    const name = unique("kill");
    {
      await using holder = fixture("pg_hold.ts", ["lock", url, name, "stdin"], {
        permissions: PERMS,
      });
      await holder.waitFor("acquired");
      await using lock = new PostgresLock(name, { url });
      const waiting = lock.acquire({ timeout: 10_000 });
      await sleep(100);
      holder.process.kill("SIGKILL");
      assert.equal(await waiting, true);
      // A waiter that is killed leaves the server's queue.
      await using waiter = fixture("pg_hold.ts", ["lock", url, name, "stdin"], {
        permissions: PERMS,
      });
      await eventually(
        async () => (await locksOn(name)).waiting === 1,
        "the child waits",
      );
      waiter.process.kill("SIGKILL");
      await eventually(
        async () => (await locksOn(name)).waiting === 0,
        "the killed waiter left the queue",
      );
      await lock.release();
    }
    await using next = new PostgresLock(name, { url });
    assert.equal(await next.acquire({ timeout: 5_000 }), true);
    await next.release();
  },
);

pgTest(
  "pg_terminate_backend on a holder makes isValid() false and aborts its signal",
  async () => {
    const name = unique("terminate");
    await using lock = new PostgresLock(name, { url });
    assert.equal(await lock.acquire(), true);
    const signal = lock.signal;
    assert.equal(signal.aborted, false);
    const aborted = new Promise((resolve) =>
      signal.addEventListener("abort", resolve)
    );
    await query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE '@locks/process-lock%' AND pid <> pg_backend_pid() AND query LIKE '%pg_advisory_lock%" +
        postgresLockKey(name) + "%'",
    );
    assert.ok(await settledWithin(aborted, 10_000), "the loss was never told");
    assert.equal(lock.isValid(), false);
    // The server freed it: another holder gets it at once.
    await using other = new PostgresLock(name, { url });
    assert.equal(await other.acquire({ timeout: 0 }), true);
    await other.release();
    await lock.release(); // lets the dead session go without throwing
  },
);

pgTest(
  "fencing tokens strictly increase across holders in several processes",
  async () => {
    const name = unique("token");
    const tokens: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      await using child = fixture("pg_hold.ts", ["lock", url, name, "0"], {
        permissions: PERMS,
      });
      tokens.push(BigInt((await child.waitFor("acquired")).split(" ")[2]));
      await child.end();
      await using lock = new PostgresLock(name, { url });
      await lock.acquire();
      tokens.push(lock.token!);
      await lock.release();
      assert.equal(lock.token, undefined);
    }
    for (let i = 1; i < tokens.length; i++) {
      assert.ok(tokens[i] > tokens[i - 1], tokens.join(", "));
    }
  },
);

pgTest(
  "a waiter's fencing token is taken at the grant: larger than any transaction id handed out while it waited, and in grant order",
  async () => {
    const name = unique("token-order");
    await using holder = new PostgresLock(name, { url });
    assert.equal(await holder.acquire(), true);
    const waiters = [0, 1, 2].map(() => new PostgresLock(name, { url }));
    const granted: bigint[] = [];
    const waiting = waiters.map((lock) =>
      lock.acquire().then(async (ok) => {
        assert.equal(ok, true);
        granted.push(lock.token!);
        await sleep(20);
        await lock.release();
      })
    );
    await eventually(
      async () => (await locksOn(name)).waiting === 3,
      "three waiters queue in the server",
    );
    // Transaction ids handed out while they wait.
    const during = BigInt(
      (await query<{ id: string }>("SELECT pg_current_xact_id()::text AS id"))[
        0
      ]
        .id,
    );
    await holder.release();
    await Promise.all(waiting);
    assert.equal(granted.length, 3);
    assert.ok(granted[0] > during, `${granted[0]} <= ${during}`);
    for (let i = 1; i < granted.length; i++) {
      assert.ok(granted[i] > granted[i - 1], granted.join(", "));
    }
  },
);

pgTest(
  "decorators hold the lock around each call, and time out with LockTimeoutError",
  async () => {
    const name = unique("decorated");
    let running = 0;
    let most = 0;
    const work = postgresLocked(name, { url })(async (x: number) => {
      most = Math.max(most, ++running);
      await sleep(20);
      running--;
      return x * 2;
    });
    assert.deepEqual(await Promise.all([work(1), work(2), work(3)]), [2, 4, 6]);
    assert.equal(most, 1);
    await using holder = new PostgresLock(name, { url });
    await holder.acquire();
    const blocked = postgresWriteLocked(name, { url, timeout: 100 })(() => 1);
    await assert.rejects(blocked(), LockTimeoutError);
    await holder.release();
    assert.equal(await blocked(), 1);
  },
);

pgTest("bad names and options throw TypeError or RangeError", () => {
  assert.throws(() => new PostgresLock("", { url }), TypeError);
  // @ts-expect-error: a number is not a name
  assert.throws(() => new PostgresLock(1, { url }), TypeError);
  // @ts-expect-error: url must be a string or URL
  assert.throws(() => new PostgresLock("x", { url: 5 }), /"url"/);
  assert.throws(
    // @ts-expect-error: not a client
    () => new PostgresLock("x", { sql: {} }),
    /"sql" must be a client of the postgres package/,
  );
  assert.throws(
    () => new PostgresLock("x", { url, keepaliveIdle: -1 }),
    RangeError,
  );
  assert.throws(
    () => new PostgresLock("x", { url, sql: postgres(url) }),
    /either/,
  );
  assert.throws(
    () => new PostgresLock("x", { url, lease: 100 }),
    /^RangeError: Option "lease" must be at least 500 ms, got 100$/,
  );
  assert.throws(() => new PostgresLock("x", { url, lease: NaN }), RangeError);
  assert.throws(
    () => new PostgresLock("x", { url, connectTimeout: 0 }),
    RangeError,
  );
  assert.throws(
    // @ts-expect-error: a number of milliseconds
    () => postgresLocked("x", { url, connectTimeout: "10" }),
    TypeError,
  );
  // Plain JavaScript (or an any-typed bag) gets past the types.
  const bag = (value: Record<string, unknown>) => value as never;
  assert.throws(
    () => new PostgresLock("x", bag({ ulr: url })),
    /^TypeError: Unknown option "ulr" \(did you mean "url"\?\)$/,
  );
  assert.throws(
    () => postgresLocked("x", bag({ url, keepAliveIdle: 1 })),
    /Unknown option "keepAliveIdle" .*\(did you mean "keepaliveIdle"\?\)/,
  );
  assert.throws(
    () => postgresLocked("x", bag({ url, delya: 1 })),
    /Unknown option "delya" .*\(did you mean "delay"\?\)/,
  );
  assert.throws(
    () => new PostgresLock("x", bag({ url, timout: 1 })),
    /\(did you mean "timeout"\? "timeout" is an option of each acquire call, not of the lock\)/,
  );
  const lock = new PostgresLock("x", { url });
  return Promise.all([
    assert.rejects(
      lock.acquire(bag({ tiemout: 1 })),
      /Unknown option "tiemout" .*\(did you mean "timeout"\?\)/,
    ),
    assert.rejects(lock.acquire({ timeout: -1 }), RangeError),
    // @ts-expect-error: wrong type
    assert.rejects(lock.acquire({ delay: "1" }), TypeError),
  ]).then(() => {});
});

pgTest(
  "a user's client: the lock reserves one connection per hold and gives it back",
  async () => {
    const name = unique("client");
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    try {
      await using a = new PostgresLock(name, { sql });
      await using b = new PostgresLock(name, { sql });
      assert.equal(await a.acquire(), true);
      assert.equal(await b.acquire({ timeout: 100 }), false);
      await a.release();
      assert.equal(await b.acquire({ timeout: 1_000 }), true);
      await b.release();
      // The connections are back in the pool, and hold nothing.
      assert.deepEqual(await locksOn(name), { granted: 0, waiting: 0 });
      assert.equal((await sql`SELECT 1 AS one`)[0].one, 1);
    } finally {
      await sql.end({ timeout: 0 });
    }
  },
);

pgTest("a script that acquires and releases exits on its own", async () => {
  const name = unique("exit");
  const script = `import { PostgresLock } from "${
    new URL("../postgres/mod.ts", import.meta.url).href
  }";
const lock = new PostgresLock(${JSON.stringify(name)}, { url: ${
    JSON.stringify(url)
  } });
await lock.acquire();
await lock.release();
console.log("released");`;
  const start = performance.now();
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  assert.match(new TextDecoder().decode(result.stdout), /released/);
  assert.ok(performance.now() - start < 10_000);
});

pgTest("cli --postgres: a lock name, the conflict code, and -w", async () => {
  const name = unique("cli");
  const cli = new URL("../cli.ts", import.meta.url).pathname;
  const runCli = (args: string[]) =>
    run(Deno.execPath(), ["run", "--quiet", ...PERMS, cli, ...args]);
  const ok = await runCli(["--postgres", url, "-n", name, "echo", "hi"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, "hi\n");
  await using holder = new PostgresLock(name, { url });
  await holder.acquire();
  assert.equal((await runCli(["--postgres", url, "-n", name, "true"])).code, 1);
  assert.equal(
    (await runCli(["--postgres", url, "-n", "-E", "9", name, "true"])).code,
    9,
  );
  const start = performance.now();
  const timed = await runCli(["--postgres", url, "-w", "0.3", name, "true"]);
  assert.equal(timed.code, 1);
  assert.ok(performance.now() - start >= 300);
  const shared = await runCli(["--postgres", url, "-s", "-n", name, "true"]);
  assert.equal(shared.code, 1);
  await holder.release();
  assert.equal((await runCli(["--postgres", url, "-s", name, "true"])).code, 0);
});

Deno.test("loading mod.ts loads no npm package; postgres.ts does", async () => {
  // The module graph of an entry point: every module it loads.
  const graph = async (entry: string) => {
    const out = await run(Deno.execPath(), ["info", "--json", entry]);
    const info = JSON.parse(out.stdout) as {
      modules: { specifier: string }[];
    };
    return info.modules.map((m) => m.specifier);
  };
  const root = new URL("../", import.meta.url);
  // (cli.ts imports postgres.ts dynamically, only for --postgres.)
  for (
    const entry of [
      "mod.ts",
      "lock.ts",
      "rwlock.ts",
      "decorators.ts",
      "owner.ts",
    ]
  ) {
    const modules = await graph(new URL(entry, root).pathname);
    assert.ok(modules.length > 1, entry);
    const outside = modules.filter((m) =>
      !m.startsWith("file:") && !m.startsWith("node:")
    );
    assert.deepEqual(outside, [], entry);
  }
  const pg = await graph(new URL("postgres/mod.ts", root).pathname);
  assert.ok(pg.some((m) => m.startsWith("npm:")), pg.join(", "));
});

pgTest(
  "a read lock takes no transaction id (only a writer's fencing token does)",
  async () => {
    const name = unique("reader-xid");
    await using rw = new PostgresReaderWriterLock(name, { url });
    const xid = async () =>
      BigInt(
        (await query<{ xid: string }>(
          "SELECT pg_current_xact_id()::text AS xid",
        ))[0]
          .xid,
      );
    const before = await xid();
    for (let i = 0; i < 5; i++) {
      assert.equal(await rw.acquireReadLock(), true);
      await rw.releaseReadLock();
    }
    // The query itself takes one id; five readers with tokens, five more.
    assert.ok((await xid()) - before <= 2n, "readers took transaction ids");
    assert.equal(await rw.acquireWriteLock(), true);
    assert.ok(rw.token! > before);
    await rw.releaseWriteLock();
  },
);

pgTest(
  "readPostgresLockHolders: the writer, then each reader, by pid; none once free",
  async () => {
    const name = unique("holders");
    await using rw = new PostgresReaderWriterLock(name, { url });
    await using other = new PostgresReaderWriterLock(name, { url });
    assert.deepEqual(await readPostgresLockHolders(name, { url }), []);
    const before = Date.now();
    assert.equal(await rw.acquireWriteLock(), true);
    const [writer, ...none] = await readPostgresLockHolders(name, { url });
    assert.deepEqual(none, []);
    assert.equal(writer.pid, Deno.pid);
    assert.equal(writer.exclusive, true);
    assert.equal(writer.hostname, Deno.hostname());
    assert.ok(writer.since.getTime() <= Date.now());
    assert.ok(writer.since.getTime() > before - 60_000);
    await rw.releaseWriteLock();
    assert.equal(await rw.acquireReadLock(), true);
    assert.equal(await other.acquireReadLock(), true);
    const readers = await readPostgresLockHolders(name, {
      url,
      timeout: 5_000,
    });
    assert.equal(readers.length, 2);
    assert.ok(readers.every((r) => !r.exclusive && r.pid === Deno.pid));
  },
);

pgTest(
  "writer first: once a writer waits in the server, a new reader waits behind it; a timeout beyond 2^31-1 ms is the server's limit, not an error",
  async () => {
    const name = unique("writer-first");
    await using first = new PostgresReaderWriterLock(name, { url });
    await using writer = new PostgresReaderWriterLock(name, { url });
    await using late = new PostgresReaderWriterLock(name, { url });
    assert.equal(await first.acquireReadLock(), true);
    // Thirty days: the server's lock_timeout takes at most 2^31-1 ms.
    const controller = new AbortController();
    const writing = writer.acquireWriteLock({
      timeout: 30 * 86_400_000,
      signal: controller.signal,
    });
    await eventually(
      async () => (await locksOn(name)).waiting === 1,
      "the writer waits in the server",
    );
    assert.equal(await late.acquireReadLock({ timeout: 300 }), false);
    controller.abort(new Error("stop"));
    await assert.rejects(writing, /stop/);
    assert.equal(await late.acquireReadLock({ timeout: 2_000 }), true);
  },
);
