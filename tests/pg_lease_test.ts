// The PostgreSQL locks under failure: a stalled or cut middlebox, a peer
// that is not PostgreSQL, an unreachable or refusing server, server-side
// timeouts, a blocked event loop, and the errors that say what happened.
import assert from "node:assert/strict";
import {
  PostgresConnectionError,
  PostgresLock,
  PostgresSemaphore,
} from "../postgres/mod.ts";
import { run, sleep, tempDir } from "./_helpers.ts";
import {
  eventually,
  holderPid,
  locksOn,
  PERMS,
  pgTest,
  query,
  settledWithin,
  unique,
  upstream,
  url,
} from "./_pg_helpers.ts";
import { Proxy, SilentPeer } from "./_proxy.ts";

pgTest(
  "a stalled middlebox: the holder learns of the loss before another client acquires, within the lease",
  async () => {
    const name = unique("stall");
    const lease = 2_000;
    await using proxy = new Proxy(upstream());
    await using a = new PostgresLock(name, { url: proxy.urlFor(url), lease });
    await using b = new PostgresLock(name, { url });
    assert.equal(await a.acquire(), true);
    // Heartbeats keep a quiet holder for longer than the lease.
    await sleep(lease * 1.5);
    assert.equal(a.isValid(), true);
    let lostAt = Infinity;
    a.signal.addEventListener("abort", () => lostAt = performance.now());
    const stalledAt = performance.now();
    proxy.stall();
    assert.equal(await b.acquire({ timeout: lease * 3 }), true);
    const acquiredAt = performance.now();
    await b.release();
    assert.equal(a.isValid(), false);
    assert.match(String(a.signal.reason), /Lost the PostgreSQL lock .* lease/);
    assert.ok(lostAt < acquiredAt, `lost ${lostAt - acquiredAt} ms after`);
    assert.ok(
      acquiredAt - stalledAt < lease + 2_000,
      `free after ${acquiredAt - stalledAt} ms`,
    );
    // The release of a lost hold settles at once.
    await a.release();
  },
);

pgTest(
  "release() during a stall settles within its bound and the server frees the lock within the lease",
  async () => {
    const name = unique("release-stall");
    const lease = 2_000;
    await using proxy = new Proxy(upstream());
    await using a = new PostgresLock(name, { url: proxy.urlFor(url), lease });
    assert.equal(await a.acquire(), true);
    proxy.stall();
    assert.ok(
      await settledWithin(a.release(), lease + 1_000),
      "the release settles within its bound",
    );
    await eventually(
      async () => (await locksOn(name)).granted === 0,
      "the server frees the lock",
      lease * 2,
    );
  },
);

pgTest(
  "a failed unlock ends the connection, so the server frees the lock without waiting for the lease",
  async () => {
    const name = unique("unlock-fails");
    await using proxy = new Proxy(upstream());
    await using a = new PostgresLock(name, {
      url: proxy.urlFor(url),
      lease: 1_500,
    });
    assert.equal(await a.acquire(), true);
    proxy.stall();
    await a.release();
    await eventually(
      () => Promise.resolve(proxy.closedByClients === 1),
      "the lock closed its connection",
      2_000,
    );
  },
);

pgTest("a cut connection aborts the holder's signal at once", async () => {
  const name = unique("cut");
  await using proxy = new Proxy(upstream());
  await using a = new PostgresLock(name, { url: proxy.urlFor(url) });
  assert.equal(await a.acquire(), true);
  const start = performance.now();
  proxy.cut();
  await eventually(() => Promise.resolve(a.signal.aborted), "lost", 5_000);
  assert.ok(performance.now() - start < 2_000);
  assert.match(String(a.signal.reason), /connection to the server closed/);
  assert.equal(a.isValid(), false);
  await a.release();
});

pgTest(
  "a peer that is not PostgreSQL: a timeout, timeout 0 and an abort settle in time, with an error naming the server",
  async () => {
    await using peer = new SilentPeer();
    const lock = new PostgresLock(unique("silent"), {
      url: `postgres://app:secret@127.0.0.1:${peer.port}/app`,
    });
    for (
      const [options, low, high] of [[{ timeout: 1_000 }, 900, 1_500], [
        { timeout: 0 },
        900,
        1_500,
      ], [{ blocking: false }, 900, 1_500]] as const
    ) {
      const start = performance.now();
      const outcome = lock.acquire(options).catch((e) => e);
      // A connect without a bound must fail this test, not hang it.
      assert.ok(await settledWithin(outcome, 5_000), "the call never settled");
      const error = await outcome;
      const took = performance.now() - start;
      assert.ok(error instanceof PostgresConnectionError, String(error));
      assert.ok(
        took >= low && took < high,
        `${JSON.stringify(options)}: ${took} ms`,
      );
      assert.equal(error.server, `127.0.0.1:${peer.port}`);
      assert.equal(error.code, "TIMEOUT");
      // The bound that applied, in whole milliseconds, and what to raise.
      assert.match(
        error.message,
        /lock "silent-.*127\.0\.0\.1:\d+: no answer to connecting within 1000 ms \((the call's timeout|the floor for connecting)\).*give the call a longer timeout \(-w on the command line\)$/,
      );
      assert.equal(error.message.split("127.0.0.1").length, 2, error.message);
      assert.doesNotMatch(error.message, /secret/);
    }
    // Without a timeout: connectTimeout.
    const short = new PostgresLock(unique("silent"), {
      url: `postgres://app@127.0.0.1:${peer.port}/app`,
      connectTimeout: 700,
    });
    let start = performance.now();
    const shortCall = short.acquire();
    assert.ok(await settledWithin(shortCall, 5_000), "never settled");
    await assert.rejects(
      shortCall,
      /within 700 ms \(connectTimeout\).*raise connectTimeout \(or connect_timeout in the URL\)$/,
    );
    assert.ok(performance.now() - start < 1_500);
    // Or the URL's connect_timeout, in seconds as libpq reads it.
    const fromUrl = new PostgresLock(unique("silent"), {
      url: `postgres://app@127.0.0.1:${peer.port}/app?connect_timeout=1`,
    });
    start = performance.now();
    await assert.rejects(
      fromUrl.acquire(),
      /within 1000 ms \(connect_timeout in the URL\).*raise connect_timeout in the URL$/,
    );
    assert.ok(performance.now() - start < 2_000);
    // An abort settles at once, with its reason.
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop")), 300);
    start = performance.now();
    await assert.rejects(lock.acquire({ signal: controller.signal }), /stop/);
    const took = performance.now() - start;
    assert.ok(took < 500, `the abort settled after ${took} ms`);
  },
);

pgTest(
  "errors name the lock and the server, give the reason, the code and advice, and keep the cause",
  async () => {
    const refused = new PostgresLock("jobs", {
      url: "postgres://app:secret@127.0.0.1:1/app",
    });
    const error = await refused.acquire().catch((e) => e);
    assert.ok(error instanceof PostgresConnectionError);
    assert.match(
      error.message,
      /^Cannot connect for the PostgreSQL lock "jobs" on the server at 127\.0\.0\.1:1: .*ECONNREFUSED.*Start the server/,
    );
    assert.doesNotMatch(error.message, /secret/);
    assert.ok(error.cause instanceof Error);
    const u = new URL(url);
    u.pathname = "/nosuchdb";
    const noDb = new PostgresLock("jobs", { url: u.href });
    const dbError = await noDb.acquire({ timeout: 0 }).catch((e) => e);
    assert.ok(dbError instanceof PostgresConnectionError);
    assert.equal(dbError.code, "3D000");
    assert.match(dbError.message, /"nosuchdb" does not exist.*database name/);
    assert.throws(
      () => new PostgresLock("jobs", { url: "http://db/app" }),
      /must be a postgres:\/\/ or postgresql:\/\/ URL/,
    );
  },
);

pgTest(
  "the server's statement_timeout and idle_session_timeout change no outcome",
  async () => {
    const db = `timeouts_${Deno.pid}`;
    await query(`CREATE DATABASE ${db}`);
    try {
      await query(
        `ALTER DATABASE ${db} SET statement_timeout = '200ms'; ` +
          `ALTER DATABASE ${db} SET idle_session_timeout = '500ms'`,
      );
      const u = new URL(url);
      u.pathname = `/${db}`;
      const name = unique("server-timeouts");
      await using a = new PostgresLock(name, { url: u.href, lease: 3_000 });
      await using b = new PostgresLock(name, { url: u.href });
      assert.equal(await a.acquire(), true);
      setTimeout(() => a.release(), 1_000);
      // Neither waiter is cut off by statement_timeout.
      assert.equal(await b.acquire(), true);
      // A quiet holder outlives idle_session_timeout.
      await sleep(1_500);
      assert.equal(b.isValid(), true);
      await b.release();
      assert.equal(await a.acquire({ timeout: 5_000 }), true);
      await a.release();
    } finally {
      await query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}'`,
      );
      await query(`DROP DATABASE ${db}`);
    }
  },
);

pgTest(
  "an event loop blocked past the lease: isValid() is false at once, before any timer runs",
  async () => {
    const name = unique("blocked");
    await using a = new PostgresLock(name, { url, lease: 600 });
    assert.equal(await a.acquire(), true);
    const end = performance.now() + 800;
    while (performance.now() < end) {
      // Blocked: no timer, no heartbeat.
    }
    assert.equal(a.isValid(), false);
    assert.equal(a.signal.aborted, true);
    await a.release();
  },
);

pgTest(
  "a cancel the library did not ask for is an error, never false",
  async () => {
    const name = unique("cancel");
    await using a = new PostgresLock(name, { url });
    await using b = new PostgresLock(name, { url });
    assert.equal(await a.acquire(), true);
    const waiting = b.acquire().catch((e) => e);
    await eventually(
      async () => (await locksOn(name)).waiting === 1,
      "b waits in the server",
    );
    await query(
      "SELECT pg_cancel_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
    );
    const error = await waiting;
    assert.ok(error instanceof PostgresConnectionError, String(error));
    assert.equal(error.code, "57014");
    await a.release();
  },
);

pgTest(
  "a released session is reused by the next acquisition on the URL",
  async () => {
    const name = unique("reuse");
    await using a = new PostgresLock(name, { url });
    const pid = () => holderPid(name);
    assert.equal(await a.acquire(), true);
    const first = await pid();
    await a.release();
    assert.equal(await a.acquire(), true);
    assert.equal(await pid(), first);
    // A lost session is never reused.
    await query(`SELECT pg_terminate_backend(${first})`);
    await eventually(() => Promise.resolve(!a.isValid()), "lost");
    await a.release();
    assert.equal(await a.acquire(), true);
    assert.notEqual(await pid(), first);
    await a.release();
  },
);

const cliPath = new URL("../cli.ts", import.meta.url).pathname;
const runCli = (args: string[], env?: Record<string, string>) =>
  run(Deno.execPath(), ["run", "--quiet", ...PERMS, cliPath, ...args], env);

pgTest(
  "cli --postgres: DATABASE_URL when no URL is given, usage errors 64, an unreachable server 69 in one line",
  async () => {
    const name = unique("cli-url");
    const fromEnv = await runCli(["--postgres", "-n", name, "echo", "hi"], {
      DATABASE_URL: url,
    });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(fromEnv.stdout, "hi\n");
    const noUrl = await runCli(["--postgres", "-n", name, "true"], {
      DATABASE_URL: "",
    });
    assert.equal(noUrl.code, 64);
    assert.match(noUrl.stderr, /--postgres needs a URL, or DATABASE_URL/);
    const http = await runCli(["--postgres", "http://db/app", name, "true"]);
    assert.equal(http.code, 64);
    assert.match(http.stderr, /postgres:\/\/ or postgresql:\/\/ URL/);
    const refused = await runCli([
      "--postgres=postgres://app:secret@127.0.0.1:1/app",
      "-w",
      "2",
      name,
      "true",
    ]);
    assert.equal(refused.code, 69);
    assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    assert.match(refused.stderr, /127\.0\.0\.1:1.*ECONNREFUSED/);
    assert.doesNotMatch(refused.stderr, /secret/);
  },
);

pgTest(
  "cli --postgres: a lock lost while the command runs stops the command (SIGTERM) and exits 75",
  async () => {
    const name = unique("cli-lost");
    await using dir = await tempDir();
    const started = `${dir.path}/started`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...PERMS,
        cliPath,
        "--postgres",
        url,
        name,
        "sh",
        "-c",
        `touch ${started}; trap 'echo got TERM; kill $!; exit 3' TERM; sleep 60 & wait`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await eventually(async () => {
      try {
        await Deno.stat(started);
        return true;
      } catch {
        return false;
      }
    }, "the command starts");
    await query(`SELECT pg_terminate_backend(${await holderPid(name)})`);
    const start = performance.now();
    const output = await child.output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 75, stderr);
    assert.match(new TextDecoder().decode(output.stdout), /got TERM/);
    assert.match(stderr, /Lost the PostgreSQL lock .*stopping the command/);
    assert.ok(performance.now() - start < 5_000);
  },
);

pgTest(
  "the demo with a bad DATABASE_URL says so in one line and exits 69",
  async () => {
    const demo = new URL("../examples/demo.ts", import.meta.url).pathname;
    const out = await run(
      Deno.execPath(),
      ["run", "--quiet", ...PERMS, demo, "--postgres"],
      { DATABASE_URL: "postgres://app@127.0.0.1:1/app" },
    );
    assert.equal(out.code, 69, out.stderr);
    assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
    assert.match(out.stderr, /ECONNREFUSED/);
    assert.doesNotMatch(out.stdout, /LOST/);
  },
);

pgTest(
  "cli --postgres against a peer that never answers: -w 1 exits 69 within about a second, SIGTERM ends the wait at once",
  async () => {
    await using peer = new SilentPeer();
    const target = `postgres://app@127.0.0.1:${peer.port}/app`;
    let start = performance.now();
    const timed = await runCli([
      "--postgres",
      target,
      "-w",
      "1",
      "name",
      "true",
    ]);
    assert.equal(timed.code, 69, timed.stderr);
    assert.ok(performance.now() - start < 3_000);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...PERMS,
        cliPath,
        "--postgres",
        target,
        "name",
        "true",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    await sleep(1_500); // connecting (Deno started, the connect bound is 10 s)
    start = performance.now();
    child.kill("SIGTERM");
    const output = await child.output();
    assert.equal(output.code, 143, new TextDecoder().decode(output.stderr));
    assert.ok(performance.now() - start < 2_000);
  },
);

pgTest(
  "cli --postgres --verbose names the holder of a busy lock, and of each slot",
  async () => {
    const name = unique("cli-holder");
    await using lock = new PostgresLock(name, { url });
    assert.equal(await lock.acquire(), true);
    const busy = await runCli([
      "--postgres",
      url,
      "-n",
      "--verbose",
      name,
      "true",
    ]);
    assert.equal(busy.code, 1);
    assert.match(
      busy.stderr,
      new RegExp(`is busy: held by pid ${Deno.pid} on .* since \\d{4}-`),
    );
    // A semaphore's gate is the lock of its own name: another name.
    const room = unique("cli-room");
    await using semaphore = new PostgresSemaphore(room, { url, slots: 1 });
    assert.equal(await semaphore.acquire(), true);
    const slots = await runCli([
      "--postgres",
      url,
      "--slots",
      "1",
      "-n",
      "--verbose",
      room,
      "true",
    ]);
    assert.equal(slots.code, 1);
    assert.match(slots.stderr, new RegExp(`held by slot 0: pid ${Deno.pid}`));
  },
);
