// Every example runs, so that none can rot.
import assert from "node:assert/strict";
import { readLockOwner } from "../mod.ts";
import { Child, run, sleep, tempDir, TEST_PERMISSIONS } from "./_helpers.ts";
import { pgServer, postgresRequired } from "./_pg_server.ts";

const EXAMPLES = new URL("../examples/", import.meta.url).pathname;
const PERMS = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-sys=hostname",
];

function example(name: string, args: string[]) {
  return run(Deno.execPath(), [
    "run",
    "--quiet",
    ...PERMS,
    `${EXAMPLES}${name}`,
    ...args,
  ]);
}

Deno.test("examples/cron_job.ts runs once, and a second copy skips", async () => {
  await using dir = await tempDir();
  const lock = `${dir.path}/cron.lock`;
  const first = example("cron_job.ts", [lock, "1500"]);
  // The second copy starts once the first one holds the lock.
  for (let i = 0; i < 1_500 && readLockOwner(lock) === null; i++) {
    await sleep(20);
  }
  const second = await example("cron_job.ts", [lock, "0"]);
  assert.equal(second.code, 0);
  assert.match(second.stdout, /^skipped: already running as pid \d+ since /);
  const done = await first;
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /running as pid \d+\nfinished\n/);
  assert.match((await example("cron_job.ts", [lock, "0"])).stdout, /finished/);
});

Deno.test("examples/shared_cache.ts: readers and a refresher never see an inconsistent cache", async () => {
  await using dir = await tempDir();
  const runs = [
    example("shared_cache.ts", ["read", dir.path]),
    example("shared_cache.ts", ["refresh", dir.path]),
    example("shared_cache.ts", ["read", dir.path]),
    example("shared_cache.ts", ["refresh", dir.path]),
    example("shared_cache.ts", ["read", dir.path]),
  ];
  for (const result of await Promise.all(runs)) {
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /INCONSISTENT/);
    assert.match(result.stdout, /^(read|refreshed to) \d+/m);
  }
});

Deno.test("examples/task_wrapper.ts runs the command under the lock and returns its status", async () => {
  await using dir = await tempDir();
  const lock = `${dir.path}/task.lock`;
  const ok = await example("task_wrapper.ts", [
    lock,
    "--",
    Deno.execPath(),
    "eval",
    "console.log('task ran')",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, "task ran\n");
  const failing = await example("task_wrapper.ts", [
    lock,
    "--",
    Deno.execPath(),
    "eval",
    "Deno.exit(3)",
  ]);
  assert.equal(failing.code, 3);
  assert.equal((await example("task_wrapper.ts", [lock])).code, 64);
});

Deno.test({
  name:
    "examples/fenced_job.ts runs on one host at a time and fences its writes",
  // As the PostgreSQL tests: skipped without a server, unless required.
  ignore: (await pgServer()).reason !== undefined && !postgresRequired(),
  sanitizeOps: false,
}, async () => {
  await using dir = await tempDir();
  const { url, reason } = await pgServer();
  if (reason !== undefined) throw new Error(`No PostgreSQL server: ${reason}`);
  const store = `${dir.path}/store.json`;
  const job = (ms: string) =>
    new Child([`${EXAMPLES}fenced_job.ts`, url, store, ms], {
      permissions: [
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-write",
      ],
    });
  await using first = job("4000");
  const running = await first.waitFor("running with token");
  // The second run starts while the first one holds the lock.
  await using second = job("0");
  assert.match(await second.waitFor("skipped"), /^skipped/);
  assert.equal((await second.end()).status.code, 0);
  const done = await first.end();
  assert.equal(done.status.code, 0, done.stderr);
  assert.deepEqual(done.rest, ["written"]);
  // A later run writes with a larger token.
  await using third = job("0");
  await third.waitFor("written");
  await third.end();
  const stored = JSON.parse(Deno.readTextFileSync(store));
  assert.ok(BigInt(stored.token) > BigInt(running.match(/token (\d+)/)![1]));
});

/** Runs demo.ts with `args`, and DATABASE_URL when given. */
function demo(args: string[], databaseUrl?: string) {
  return run(Deno.execPath(), [
    "run",
    "--quiet",
    ...TEST_PERMISSIONS,
    new URL("../examples/demo.ts", import.meta.url).pathname,
    ...args,
  ], databaseUrl === undefined ? undefined : { DATABASE_URL: databaseUrl });
}

Deno.test("demo.ts: no update lost under the lock; without it, the losses shown and exit 0", async () => {
  const locked = await demo(["--processes", "3", "--increments", "100"]);
  assert.equal(locked.code, 0, locked.stdout + locked.stderr);
  assert.match(locked.stdout, /final count 300, expected 300: no update lost/);
  const unlocked = await demo([
    "--no-lock",
    "--processes",
    "4",
    "--increments",
    "200",
  ]);
  assert.equal(unlocked.code, 0, unlocked.stdout + unlocked.stderr);
  assert.match(
    unlocked.stdout,
    /WITHOUT the lock[\s\S]*final count \d+, expected 800: (\d+ updates lost without the lock|no update lost this time)/,
  );
  assert.equal((await demo(["--processes", "0"])).code, 64);
});

Deno.test({
  name: "demo.ts --postgres: no update lost under the PostgreSQL lock",
  ignore: (await pgServer()).reason !== undefined && !postgresRequired(),
  sanitizeOps: false,
}, async () => {
  const { url, reason } = await pgServer();
  if (reason !== undefined) throw new Error(`No PostgreSQL server: ${reason}`);
  const result = await demo(
    ["--postgres", "--processes", "2", "--increments", "50"],
    url,
  );
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /PostgreSQL lock "demo-counter"/);
  assert.match(result.stdout, /final count 100, expected 100: no update lost/);
});

const DEMO = new URL("../examples/demo.ts", import.meta.url).pathname;

Deno.test("demo.ts: an unknown option exits 64 with one line; --help prints the usage", async () => {
  for (const args of [["--bogus"], ["--slot", "3"], ["--processes"]]) {
    const result = await demo(args);
    assert.equal(result.code, 64, JSON.stringify(args));
    assert.match(result.stderr, /^demo: .*\n$/);
  }
  const help = await demo(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage:\n {2}deno task demo/);
});

Deno.test({
  name:
    "demo.ts: SIGINT or SIGTERM stop it with 130 or 143, and its temporary directory is removed",
  ignore: Deno.build.os === "windows",
}, async () => {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    await using child = new Child(
      [DEMO, "--processes", "2", "--increments", "1000000"],
      { permissions: TEST_PERMISSIONS as string[] },
    );
    const first = await child.waitFor("2 processes");
    const dir = first.match(/of (\S+)\/counter,/)![1];
    assert.ok(Deno.statSync(dir).isDirectory);
    await sleep(500);
    child.process.kill(signal);
    const { status } = await child.end();
    assert.equal(status.code, code);
    assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);
  }
});

Deno.test({
  name:
    "demo.ts --postgres: the URL is printed without its password; SIGINT stops the throwaway server",
  ignore: Deno.build.os === "windows" ||
    (await pgServer()).reason !== undefined && !postgresRequired(),
  sanitizeOps: false,
}, async () => {
  const { url } = await pgServer();
  const withPassword = new URL(url);
  withPassword.password = "secret";
  const shown = await demo(
    ["--postgres", "--processes", "1", "--increments", "5"],
    withPassword.href,
  );
  assert.equal(shown.code, 0, shown.stderr);
  assert.doesNotMatch(shown.stdout, /secret/);
  assert.match(shown.stdout, /:\*\*\*@/);
  if (Deno.env.get("DATABASE_URL")) return; // No throwaway server here.
  await using child = new Child(
    [DEMO, "--postgres", "--processes", "1", "--increments", "1000000"],
    { permissions: TEST_PERMISSIONS as string[], env: { DATABASE_URL: "" } },
  );
  const first = await child.waitFor("1 processes", 60_000);
  const port = Number(first.match(/@127\.0\.0\.1:(\d+)\//)![1]);
  child.process.kill("SIGINT");
  assert.equal((await child.end()).status.code, 130);
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("examples/web_locks.ts: 8 processes append to one journal, never losing a line", async () => {
  await using dir = await tempDir();
  const runs = Array.from(
    { length: 8 },
    (_, i) => example("web_locks.ts", [dir.path, `run ${i}`]),
  );
  for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.stderr);
  const journal = Deno.readTextFileSync(`${dir.path}/journal.txt`);
  assert.equal(journal.trim().split("\n").length, 8);
});
