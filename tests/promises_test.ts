// Promises of the docs that a one-line break would violate, each caught in
// seconds: the order of one process's calls, a handle released once, the
// owner's `since`, a decorated call's signal, a semaphore's one deadline,
// and flock(1)'s option forms.
import assert from "node:assert/strict";
import process from "node:process";
import {
  InterProcessLock,
  interprocessLocked,
  InterProcessReaderWriterLock,
  InterProcessSemaphore,
  readLockOwner,
} from "../mod.ts";
import {
  fixture,
  flockHolder,
  now,
  rawHolder,
  run,
  sleep,
  tempDir,
} from "./_helpers.ts";

const POSIX = Deno.build.os !== "windows";
const CLI = new URL("../cli.ts", import.meta.url).pathname;

Deno.test("when a call of this process gives up, the next one goes on at once", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  const holder = rawHolder(path);
  using first = new InterProcessLock(path);
  using second = new InterProcessLock(path);
  const start = now();
  const gaveUp = first.acquire({ timeout: 200 });
  const next = second.acquire({ timeout: 5_000 });
  assert.equal(await gaveUp, false);
  await sleep(300);
  holder.close();
  assert.equal(await next, true);
  // Left asleep, the second call would try only at its own deadline.
  const took = now() - start;
  assert.ok(took < 2_500, `the next call got the lock after ${took} ms`);
});

Deno.test("calls of one process get the lock in arrival order", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  using holder = new InterProcessLock(path);
  using early = new InterProcessLock(path);
  using late = new InterProcessLock(path);
  await holder.acquire();
  const earlyGot = early.acquire({ timeout: 3_000 });
  await sleep(50);
  holder.release();
  // Arrives after the release woke the early call, before it ran.
  const lateGot = late.acquire({ timeout: 3_000 });
  assert.equal(await earlyGot, true);
  assert.equal(late.acquired, false);
  early.release();
  assert.equal(await lateGot, true);
});

Deno.test("disposing a scoped handle twice releases once", async () => {
  await using dir = await tempDir();
  const rw = new InterProcessReaderWriterLock(`${dir.path}/a.lock`);
  const first = await rw.readLock();
  await rw.readLock();
  first[Symbol.dispose]();
  first[Symbol.dispose]();
  assert.equal(rw.readers, 1);
  rw[Symbol.dispose]();
});

Deno.test("the owner's since is when the current holder acquired", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  using lock = new InterProcessLock(path);
  await lock.acquire();
  const first = readLockOwner(path)!.since.getTime();
  lock.release();
  await sleep(20);
  await lock.acquire();
  const second = readLockOwner(path)!.since.getTime();
  assert.ok(second > first, `since ${second} after ${first}`);
});

Deno.test("a decorated call honours its signal", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  using _holder = rawHolder(path);
  const controller = new AbortController();
  const reason = new Error("stop");
  const locked = interprocessLocked(path, {
    signal: controller.signal,
    timeout: 10_000,
  })(() => "ran");
  const start = now();
  setTimeout(() => controller.abort(reason), 100);
  await assert.rejects(locked(), (error) => error === reason);
  assert.ok(now() - start < 3_000);
});

Deno.test({
  name: "timeout bounds the whole semaphore call, the gate's wait included",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/sem.lock`;
  using semaphore = new InterProcessSemaphore(path, { slots: 1 });
  Deno.writeTextFileSync(`${path}.0`, "");
  const slot = await flockHolder(`${path}.0`);
  // Another caller passes through the gate for 800 ms.
  Deno.writeTextFileSync(path, "");
  const gate = await flockHolder(path);
  setTimeout(() => gate.end(), 800);
  try {
    const start = now();
    assert.equal(await semaphore.acquire({ timeout: 1_000 }), false);
    const took = now() - start;
    // A fresh deadline after the gate would end at about 1800 ms.
    assert.ok(took < 1_500, `the call took ${took} ms`);
  } finally {
    await sleep(500); // Until the gate's holder has ended.
    await slot.end();
  }
});

Deno.test({
  name: "cli: flock(1)'s FILE --command CMD, and the last of -s and -x wins",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  const cli = (args: string[]) =>
    run(Deno.execPath(), ["run", "-A", "--quiet", CLI, ...args]);
  const command = await cli([path, "--command", "echo hi"]);
  assert.equal(command.code, 0, command.stderr);
  assert.equal(command.stdout, "hi\n");
  Deno.writeTextFileSync(path, "");
  const reader = await flockHolder(path, "-s");
  try {
    assert.equal((await cli(["-x", "-s", "-n", path, "true"])).code, 0);
    assert.equal((await cli(["-s", "-x", "-n", path, "true"])).code, 1);
  } finally {
    await reader.end();
  }
});

Deno.test("a released semaphore slot wakes a waiter of this process at once", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/sem.lock`;
  const options = { slots: 2 };
  using a = new InterProcessSemaphore(path, options);
  using b = new InterProcessSemaphore(path, options);
  using c = new InterProcessSemaphore(path, options);
  assert.equal(await a.acquire(), true);
  assert.equal(await b.acquire(), true);
  const freed = b.slot;
  // Bounded: a slot released under another slot's name would leave this
  // call waiting for this process, to the end of its timeout.
  const waiting = c.acquire({ timeout: 3_000 });
  await sleep(100);
  const start = now();
  b.release();
  assert.equal(await waiting, true);
  assert.equal(c.slot, freed);
  assert.ok(now() - start < 1_500, `took ${now() - start} ms`);
});

Deno.test({
  name:
    "a writer with no timeout or signal waits for a reader of another process",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/rw.lock`;
  Deno.writeTextFileSync(path, "");
  const reader = await flockHolder(path, "-s");
  const ended = sleep(500).then(() => reader.end());
  using rw = new InterProcessReaderWriterLock(path);
  const start = now();
  assert.equal(await rw.acquireWriteLock(), true);
  const waited = now() - start;
  rw.releaseWriteLock();
  await ended;
  assert.ok(waited > 300, `the writer got in after ${waited} ms`);
});

Deno.test("a timeout longer than the longest timer (30 days) waits without spinning", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  using holder = new InterProcessLock(path);
  await holder.acquire();
  const waiter = new InterProcessLock(path);
  const waiting = waiter.acquire({ timeout: 30 * 86_400_000 });
  await sleep(200);
  const before = process.cpuUsage();
  await sleep(2_000);
  const { user, system } = process.cpuUsage(before);
  waiter[Symbol.dispose]();
  await assert.rejects(waiting, /disposed/);
  // Timers clamped to 1 ms would spin: about 150 ms of CPU in 2 s.
  assert.ok(user + system < 60_000, `${(user + system) / 1000} ms of CPU`);
});

Deno.test("the state of each lock path is dropped once idle: memory stays flat over 20,000 paths", async () => {
  await using dir = await tempDir();
  const result = await run(Deno.execPath(), [
    "run",
    "--quiet",
    "--v8-flags=--expose-gc",
    "--allow-read",
    "--allow-write",
    new URL("./fixtures/many_paths.ts", import.meta.url).pathname,
    dir.path,
    "20000",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const grew = Number(result.stdout.match(/grew (-?\d+)/)![1]);
  // Kept, 20,000 states take about 4 MB.
  assert.ok(grew < 1_500_000, `the heap grew ${grew} bytes`);
});

Deno.test({
  name:
    "writer preference: a writer gets in within a second against readers of four processes whose holds overlap, and the readers go on after it",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/rw.lock`;
  const readers = Array.from(
    { length: 4 },
    () => fixture("readers.ts", [path, "100"]),
  );
  try {
    await Promise.all(readers.map((r) => r.waitFor("reading")));
    using rw = new InterProcessReaderWriterLock(path);
    for (let run = 0; run < 5; run++) {
      await sleep(200);
      const start = now();
      assert.equal(await rw.acquireWriteLock({ timeout: 10_000 }), true);
      const waited = now() - start;
      rw.releaseWriteLock();
      assert.ok(waited < 1_000, `run ${run}: the writer waited ${waited} ms`);
    }
  } finally {
    for (const reader of readers) {
      const { rest } = await reader.end();
      const reads = Number(rest.find((l) => l.startsWith("reads"))?.slice(6));
      assert.ok(reads > 5, `a reader read ${reads} times`);
    }
  }
});
