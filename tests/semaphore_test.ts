// Counting semaphores: at most N holders across real processes, some of
// them SIGKILLed while holding or waiting; no slot or gate left taken by a
// call that gave up; bad `slots` values; the decorators and the CLI.
import assert from "node:assert/strict";
import {
  InterProcessSemaphore,
  LockTimeoutError,
  semaphoreLocked,
} from "../mod.ts";
import {
  flockHolder,
  run,
  sleep,
  tempDir,
  TEST_PERMISSIONS,
} from "./_helpers.ts";
import { crowd } from "./_crowd.ts";

/** Whether flock(1) can take the file's lock at once. */
async function free(path: string): Promise<boolean> {
  return (await run("flock", ["-n", path, "true"])).code === 0;
}

Deno.test("semaphore: 16 processes, 3 slots, some SIGKILLed holding or waiting: never more than 3 inside, every survivor served, no slot left taken", async () => {
  await using dir = await tempDir();
  const gate = `${dir.path}/room.lock`;
  await crowd(dir.path, gate, 3, 16, 4);
  for (const path of [gate, `${gate}.0`, `${gate}.1`, `${gate}.2`]) {
    assert.ok(await free(path), `${path} is still locked`);
  }
});

Deno.test("semaphore: slots, acquired, a full semaphore, and a slot freed by its release", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/s.lock`;
  using a = new InterProcessSemaphore(path, { slots: 2 });
  using b = new InterProcessSemaphore(path, { slots: 2 });
  using c = new InterProcessSemaphore(path, { slots: 2 });
  assert.equal(a.slot, undefined);
  assert.equal(await a.acquire(), true);
  assert.equal(await b.acquire(), true);
  assert.deepEqual([a.slot, b.slot, a.acquired, c.acquired], [
    0,
    1,
    true,
    false,
  ]);
  assert.equal(a.isValid(), true);
  const waiting = c.acquire();
  await sleep(100);
  b.release();
  assert.equal(await waiting, true);
  assert.equal(c.slot, 1);
  // An object holds one slot: a second acquire waits for its release.
  const second = c.acquire({ timeout: 200 });
  assert.equal(await second, false);
  assert.throws(() => b.release(), /Cannot release the slot .* not held/);
});

Deno.test("semaphore: timeout, timeout 0, blocking false and an abort leave no slot and no gate taken", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/s.lock`;
  const holders = [0, 1, 2].map(() =>
    new InterProcessSemaphore(path, { slots: 3 })
  );
  for (const h of holders) {
    assert.equal(await h.acquire({ timeout: 5_000 }), true);
  }
  using late = new InterProcessSemaphore(path, { slots: 3 });
  assert.equal(await late.acquire({ timeout: 0 }), false);
  assert.equal(await late.acquire({ blocking: false }), false);
  const start = performance.now();
  assert.equal(await late.acquire({ timeout: 300 }), false);
  assert.ok(performance.now() - start >= 280);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("stop")), 100);
  await assert.rejects(late.acquire({ signal: controller.signal }), /stop/);
  assert.ok(await free(path), "the gate is held");
  for (const h of holders) h.release();
  for (const slot of [0, 1, 2]) {
    assert.ok(await free(`${path}.${slot}`), `slot ${slot} is held`);
  }
});

Deno.test("semaphore: a slot held by flock(1) counts, and a waiter gets it when flock lets go", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/s.lock`;
  const outside = await flockHolder(`${path}.0`);
  using a = new InterProcessSemaphore(path, { slots: 1 });
  assert.equal(await a.acquire({ timeout: 0 }), false);
  const waiting = a.acquire({ timeout: 10_000 });
  await sleep(200);
  assert.equal(await outside.end(), 0);
  assert.equal(await waiting, true);
  a.release();
});

Deno.test("semaphore: bad slots throw TypeError or RangeError", () => {
  for (const slots of [0, 1.5, NaN, -1, Infinity]) {
    assert.throws(
      () => new InterProcessSemaphore("x.lock", { slots }),
      RangeError,
    );
  }
  assert.throws(
    // @ts-expect-error: a number
    () => new InterProcessSemaphore("x.lock", { slots: "3" }),
    /^TypeError: Option "slots" must be a number, got a string/,
  );
  assert.throws(
    // @ts-expect-error: slots is required
    () => new InterProcessSemaphore("x.lock"),
    /needs the option "slots"/,
  );
  assert.throws(
    // @ts-expect-error: slots is required
    () => new InterProcessSemaphore("x.lock", {}),
    /^TypeError: A semaphore needs the option "slots": how many holders/,
  );
  assert.throws(
    // @ts-expect-error: not an option
    () => new InterProcessSemaphore("x.lock", { slots: 2, slot: 1 }),
    /Unknown option "slot" \(did you mean "slots"\?\)/,
  );
  assert.throws(() => semaphoreLocked("x.lock", { slots: 0 }), RangeError);
});

Deno.test("semaphoreLocked: at most N calls at once; LockTimeoutError when none is free in time", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/s.lock`;
  let inside = 0;
  let peak = 0;
  const work = semaphoreLocked(path, { slots: 2 })(async (ms: number) => {
    peak = Math.max(peak, ++inside);
    await sleep(ms);
    inside--;
    return ms;
  });
  assert.deepEqual(await Promise.all([30, 30, 30, 30, 30].map(work)), [
    30,
    30,
    30,
    30,
    30,
  ]);
  assert.equal(peak, 2);
  using a = new InterProcessSemaphore(path, { slots: 1 });
  assert.equal(await a.acquire(), true);
  const quick = semaphoreLocked(path, { slots: 1, timeout: 50 })(() => 1);
  await assert.rejects(quick(), LockTimeoutError);
});

Deno.test("cli --slots: at most N commands at once; -s with --slots and -j 0 are usage errors", async () => {
  await using dir = await tempDir();
  const cli = new URL("../cli.ts", import.meta.url).pathname;
  const log = `${dir.path}/log`;
  const script = `echo in >> ${log}; sleep 0.3; echo out >> ${log}`;
  const runs = Array.from(
    { length: 5 },
    () =>
      run(Deno.execPath(), [
        "run",
        "--quiet",
        ...TEST_PERMISSIONS,
        cli,
        "-j",
        "2",
        "--verbose",
        `${dir.path}/j.lock`,
        "-c",
        script,
      ]),
  );
  const results = await Promise.all(runs);
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /got slot [01] of 2 on .*j\.lock after \d+ ms/);
  }
  let now = 0;
  let peak = 0;
  for (const line of Deno.readTextFileSync(log).trim().split("\n")) {
    now += line === "in" ? 1 : -1;
    peak = Math.max(peak, now);
  }
  assert.equal(peak, 2);
  const usage = (args: string[]) =>
    run(Deno.execPath(), [
      "run",
      "--quiet",
      ...TEST_PERMISSIONS,
      cli,
      ...args,
      `${dir.path}/j.lock`,
      "true",
    ]);
  assert.equal((await usage(["-s", "--slots", "2"])).code, 64);
  assert.equal((await usage(["-j", "0"])).code, 64);
  assert.equal((await usage(["--slots=1.5"])).code, 64);
});

Deno.test("demo --slots 3: the peak is printed and never passes 3", async () => {
  const demo = new URL("../examples/demo.ts", import.meta.url).pathname;
  const out = await run(Deno.execPath(), [
    "run",
    "--quiet",
    ...TEST_PERMISSIONS,
    demo,
    "--slots",
    "3",
  ]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(
    out.stdout,
    /peak [123] inside at once, never more than the 3 slots/,
  );
});

Deno.test("semaphore: a try skips the gate: it takes a free slot while another process holds the gate", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/s.lock`;
  const gate = await flockHolder(path);
  using a = new InterProcessSemaphore(path, { slots: 2 });
  using b = new InterProcessSemaphore(path, { slots: 2 });
  using c = new InterProcessSemaphore(path, { slots: 2 });
  assert.equal(await a.acquire({ blocking: false }), true);
  assert.equal(await b.acquire({ timeout: 0 }), true);
  assert.equal(await c.acquire({ timeout: 0 }), false);
  // A call that may wait queues at the gate.
  assert.equal(await c.acquire({ timeout: 200 }), false);
  assert.equal(await gate.end(), 0);
  a.release();
  assert.equal(await c.acquire({ timeout: 5_000 }), true);
});
