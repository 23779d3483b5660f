// Stress and crash tests with real processes: no lost update under any lock
// kind, a SIGKILLed holder always frees the lock, and readers never see a
// writer's half-written state.
import assert from "node:assert/strict";
import { InterProcessReaderWriterLock } from "../mod.ts";
import { fixture, now, tempDir } from "./_helpers.ts";

const PROCESSES = 8;
const INCREMENTS = 250;

for (const kind of ["lock", "write", "decorator"]) {
  Deno.test(`stress: ${PROCESSES} processes x ${INCREMENTS} increments through ${kind}, no lost update`, async () => {
    await using dir = await tempDir();
    const lockPath = `${dir.path}/stress.lock`;
    const counterPath = `${dir.path}/counter`;
    Deno.writeTextFileSync(counterPath, "0");
    const children = Array.from(
      { length: PROCESSES },
      () =>
        fixture("stress.ts", [kind, lockPath, counterPath, String(INCREMENTS)]),
    );
    try {
      for (const child of children) {
        const { status, rest, stderr } = await child.end();
        assert.equal(status.code, 0, stderr);
        assert.deepEqual(rest, ["done"]);
      }
    } finally {
      for (const child of children) await child[Symbol.asyncDispose]();
    }
    assert.equal(
      Number(Deno.readTextFileSync(counterPath)),
      PROCESSES * INCREMENTS,
    );
  });
}

Deno.test("stress control: the same workers without a lock lose updates", async () => {
  await using dir = await tempDir();
  const counterPath = `${dir.path}/counter`;
  Deno.writeTextFileSync(counterPath, "0");
  const children = Array.from(
    { length: 4 },
    () =>
      fixture("stress.ts", [
        "none",
        `${dir.path}/unused.lock`,
        counterPath,
        "200",
      ]),
  );
  for (const child of children) await child.waitFor("ready");
  for (const child of children) await child.closeStdin();
  for (const child of children) {
    assert.equal((await child.end()).status.code, 0);
  }
  assert.ok(Number(Deno.readTextFileSync(counterPath)) < 4 * 200);
});

Deno.test("crash: a holder SIGKILLed at a random point, 5 rounds; the next waiter gets the lock within 1 s", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/crash.lock`;
  // The first holder, then in each round: two waiters; kill the holder; one
  // waiter gets the lock quickly and becomes the next victim.
  let holder = fixture("hold.ts", ["lock", path]);
  await holder.waitFor("acquired");
  const spare = [];
  try {
    for (let round = 0; round < 5; round++) {
      const waiters = [0, 1].map(() =>
        fixture("hold.ts", [
          "lock",
          path,
          "stdin",
          JSON.stringify({ timeout: 30_000 }),
        ])
      );
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
      const killedAt = now();
      holder.process.kill("SIGKILL");
      await holder.end();
      const winner = await Promise.any(waiters.map(async (w) => {
        const line = await w.waitFor("acquired", 5_000);
        return { w, at: Number(line.split(" ")[1]) };
      }));
      const took = winner.at - killedAt;
      assert.ok(
        took < 1_000,
        `round ${round}: the next waiter held the lock ${took} ms after the kill`,
      );
      assert.ok(took >= 0, "a waiter held the lock before the holder died");
      const loser = waiters.find((w) => w !== winner.w)!;
      loser.process.kill("SIGKILL");
      spare.push(loser);
      holder = winner.w;
    }
  } finally {
    await holder[Symbol.asyncDispose]();
    for (const child of spare) await child[Symbol.asyncDispose]();
  }
});

Deno.test("reader-writer: no reader ever sees a writer's half-written state", async () => {
  await using dir = await tempDir();
  const lockPath = `${dir.path}/rw.lock`;
  const dataPath = `${dir.path}/data`;
  Deno.writeTextFileSync(dataPath, "0:0");
  const writers = [0, 1].map((i) =>
    fixture("rw_worker.ts", ["write", lockPath, dataPath, String(i)])
  );
  const readers = [0, 1, 2].map((i) =>
    fixture("rw_worker.ts", ["read", lockPath, dataPath, String(i)])
  );
  const results: string[] = [];
  try {
    for (const child of [...writers, ...readers]) {
      const { status, rest, stderr } = await child.end();
      assert.equal(status.code, 0, stderr);
      results.push(...rest);
    }
  } finally {
    for (const child of [...writers, ...readers]) {
      await child[Symbol.asyncDispose]();
    }
  }
  const reads = results.filter((line) => line.startsWith("reads "));
  assert.equal(reads.length, 3);
  for (const line of reads) {
    const [, good, torn] = line.split(" ").map(Number);
    assert.equal(torn, 0, line);
    assert.ok(good > 0, line);
  }
  // And the lock is free at the end.
  const rw = new InterProcessReaderWriterLock(lockPath);
  assert.equal(await rw.acquireWriteLock({ blocking: false }), true);
  rw.releaseWriteLock();
});
