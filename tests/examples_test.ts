// Every example runs, so that none can rot.
import assert from "node:assert/strict";
import { run, tempDir } from "./_helpers.ts";
import { pgServer } from "./_pg_server.ts";

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
  await new Promise((r) => setTimeout(r, 700));
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
  ignore: (await pgServer()).reason !== undefined &&
    Deno.env.get("PROCESS_LOCK_REQUIRE_POSTGRES") !== "1",
  sanitizeOps: false,
}, async () => {
  await using dir = await tempDir();
  const { url, reason } = await pgServer();
  if (reason !== undefined) throw new Error(`No PostgreSQL server: ${reason}`);
  const store = `${dir.path}/store.json`;
  const runJob = (ms: string) =>
    run(Deno.execPath(), [
      "run",
      "--quiet",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      `${EXAMPLES}fenced_job.ts`,
      url,
      store,
      ms,
    ]);
  const first = runJob("4000");
  await new Promise((r) => setTimeout(r, 2_000));
  const second = await runJob("0");
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^skipped/);
  const done = await first;
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /running with token \d+\nwritten\n/);
  // A later run writes with a larger token.
  const third = await runJob("0");
  assert.match(third.stdout, /written/);
  const stored = JSON.parse(Deno.readTextFileSync(store));
  assert.ok(
    BigInt(stored.token) > BigInt(done.stdout.match(/token (\d+)/)![1]),
  );
});
