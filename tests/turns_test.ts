// Turn-taking: a released file kept for an acquire in the same job, the
// waiter queue in the lock file, and what happens to claims left behind.
import assert from "node:assert/strict";
import { InterProcessLock, InterProcessReaderWriterLock } from "../mod.ts";
import { FileContender } from "../_contender.ts";
import { parseRecord, readClaims, writeClaim } from "../_owner.ts";
import { fixture, run, tempDir } from "./_helpers.ts";

// Windows locks are mandatory (no queue in a held file, and each release
// closes the file at once): these tests are about the POSIX scheme.
const WINDOWS = Deno.build.os === "windows";
const HAS_FLOCK = await run("flock", ["--version"]).then(
  (r) => r.code === 0,
  () => false,
);

/** The claims in the waiter queue of the lock file at `path`. */
function claimsAt(path: string): number[] {
  using file = Deno.openSync(path, { read: true });
  return readClaims(file).filter((claim) => claim !== 0);
}

/** Polls `check` every 10 ms until it holds, or fails after `ms`. */
async function eventually(check: () => boolean, ms: number, what: string) {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test({
  name: "release() unlocks at once, before the end of the job",
  ignore: !HAS_FLOCK,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/now.lock`;
    const lock = new InterProcessLock(path);
    assert.equal(await lock.acquire(), true);
    lock.release();
    // Still in the same job: the file is not closed yet, but unlocked.
    const output = new Deno.Command("flock", { args: ["-n", path, "true"] })
      .outputSync();
    assert.equal(output.code, 0);
  },
});

Deno.test({
  name: "an acquire in the same job as the release takes the same file back",
  ignore: WINDOWS,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/same-job.lock`;
  const lock = new InterProcessLock(path);
  // Create the file first (creating takes two opens).
  assert.equal(await lock.acquire(), true);
  lock.release();
  await new Promise((r) => setTimeout(r, 0));
  const original = Deno.openSync;
  let opens = 0;
  Deno.openSync = (...args: Parameters<typeof Deno.openSync>) => {
    if (String(args[0]) === path) opens++;
    return original(...args);
  };
  try {
    for (let i = 0; i < 10; i++) {
      assert.equal(await lock.acquire(), true);
      lock.release();
    }
    assert.equal(opens, 1, "one open for ten acquisitions");
    // With an await in between, the file is closed at the end of the job
    // and the next acquire opens it again.
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(await lock.acquire(), true);
    lock.release();
    assert.equal(opens, 2);
  } finally {
    Deno.openSync = original;
  }
  // The resource sanitizer fails this test if a kept file were left open.
});

Deno.test({
  name:
    "a file kept for the same job is checked again: one deleted meanwhile is not locked",
  ignore: WINDOWS,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/deleted.lock`;
    const lock = new InterProcessLock(path);
    assert.equal(await lock.acquire(), true);
    lock.release();
    Deno.removeSync(path);
    assert.equal(await lock.acquire(), true);
    // The lock is on a new file at the path, not on the deleted one.
    assert.equal(lock.isValid(), true);
    assert.ok(Deno.statSync(path).isFile);
    if (HAS_FLOCK) {
      const output = await run("flock", ["-n", path, "true"]);
      assert.equal(output.code, 1, "flock(1) sees the new file locked");
    }
    lock.release();
  },
});

Deno.test({
  name: "a waiting process has a claim in the queue until it gets the lock",
  ignore: WINDOWS,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/queue.lock`;
  const lock = new InterProcessLock(path);
  assert.equal(await lock.acquire(), true);
  await using child = fixture("hold.ts", ["lock", path]);
  await eventually(
    () => claimsAt(path).length === 1,
    10_000,
    "the child's claim",
  );
  lock.release();
  await child.waitFor("acquired");
  assert.deepEqual(claimsAt(path), [], "the winner took its claim out");
  await child.closeStdin();
  await child.waitFor("released");
  assert.equal((await child.end()).status.code, 0);
});

Deno.test({
  name: "a waiter that gives up takes its claim out of the queue",
  ignore: WINDOWS,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/gives-up.lock`;
  await using holder = fixture("hold.ts", ["lock", path]);
  await holder.waitFor("acquired");
  const lock = new InterProcessLock(path);
  const waiting = lock.acquire({ timeout: 300 });
  await eventually(() => claimsAt(path).length === 1, 5_000, "the claim");
  assert.equal(await waiting, false);
  assert.deepEqual(claimsAt(path), []);
  await holder.closeStdin();
  await holder.end();
});

Deno.test({
  name: "a claim left by a dead waiter does not hold up the queue",
  ignore: WINDOWS,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/stale.lock`;
  const lock = new InterProcessLock(path);
  assert.equal(await lock.acquire(), true);
  // A claim older than any live waiter's, as a SIGKILLed waiter leaves it.
  {
    using file = Deno.openSync(path, { read: true, write: true });
    writeClaim(file, 0, 1_000);
  }
  await using child = fixture("hold.ts", ["lock", path]);
  await eventually(() => claimsAt(path).length === 2, 10_000, "two claims");
  const released = performance.timeOrigin + performance.now();
  lock.release();
  const got = Number((await child.waitFor("acquired")).split(" ")[1]);
  // The child is second in the queue, so it does not take the release at
  // once; it tries when its pauses have grown to maxDelay.
  assert.ok(got - released < 3_000, `took ${got - released} ms`);
  assert.deepEqual(claimsAt(path), [], "the stale claim is gone too");
  await child.closeStdin();
  assert.equal((await child.end()).status.code, 0);
});

Deno.test({
  name:
    "the owner record is emptied at a release that others wait for, and kept otherwise",
  ignore: WINDOWS,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/record.lock`;
  const lock = new InterProcessLock(path);
  assert.equal(await lock.acquire(), true);
  const first = parseRecord(Deno.readFileSync(path));
  assert.equal(first?.pid, Deno.pid);
  lock.release();
  // Nobody waits: the record stays, and the next hold keeps it as it is.
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(parseRecord(Deno.readFileSync(path)), first);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await lock.acquire(), true);
  assert.deepEqual(parseRecord(Deno.readFileSync(path)), first);
  // Someone waits (a claim in the queue): the release empties the record,
  // as the file is closed at the end of the job.
  {
    using file = Deno.openSync(path, { read: true, write: true });
    writeClaim(file, 0, 1_000);
  }
  lock.release();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(parseRecord(Deno.readFileSync(path)), undefined);
});

Deno.test({
  name:
    "a waiter on a holder of this library counts on the release's event and polls seldom",
  // Linux's inotify reports every close; the host names tell that the holder
  // is on this machine.
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/seldom.lock`;
    await using child = fixture("hold.ts", ["lock", path]);
    await child.waitFor("acquired");
    const sleeps: number[] = [];
    const lock = new InterProcessLock(path, {
      sleep: (ms, options) => {
        sleeps.push(ms);
        return new Promise((resolve) => {
          const id = setTimeout(resolve, ms);
          options?.signal?.addEventListener("abort", () => {
            clearTimeout(id);
            resolve();
          });
        });
      },
    });
    const acquiring = lock.acquire({ delay: 20, maxDelay: 50 });
    await new Promise((r) => setTimeout(r, 700));
    await child.closeStdin();
    const released = Number((await child.waitFor("released")).split(" ")[1]);
    assert.equal(await acquiring, true);
    const late = performance.timeOrigin + performance.now() - released;
    lock.release();
    // 10 x maxDelay instead of 20, 40, 50, 50, ...: the release woke it.
    assert.equal(sleeps[0], 500, `slept ${sleeps}`);
    assert.ok(sleeps.length <= 3, `slept ${sleeps}`);
    assert.ok(late < 400, `woke ${late} ms after the release`);
    await child.end();
  },
});

Deno.test({
  name:
    "a process that gives its turn away gets the lock back only after the waiting process",
  ignore: WINDOWS,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/turn.lock`;
  let gaveTurn = false;
  const lock = new InterProcessLock(path, {
    logger: {
      debug: (message: unknown) => {
        if (String(message).startsWith("Giving the lock")) gaveTurn = true;
      },
    },
  });
  // Hold the lock while the child starts waiting and takes its place in the
  // queue, so that it cannot get in between a release and an acquire.
  assert.equal(await lock.acquire(), true);
  await using child = fixture("hold.ts", [
    "lock",
    path,
    "0",
    JSON.stringify({ timeout: 20_000 }),
  ]);
  await eventually(() => claimsAt(path).length === 1, 10_000, "the claim");
  await new Promise((r) => setTimeout(r, 100));
  // Release and acquire again in one job: the streak is long enough, and
  // the queue not empty, so the acquire gives the lock a turn first.
  lock.release();
  assert.equal(await lock.acquire(), true);
  const backAt = performance.timeOrigin + performance.now();
  lock.release();
  assert.ok(gaveTurn, "this process gave the lock a turn");
  const childAt = Number((await child.waitFor("acquired")).split(" ")[1]);
  assert.ok(
    childAt < backAt,
    `the child got the lock ${
      childAt - backAt
    } ms after this process took it back`,
  );
  assert.equal((await child.end()).status.code, 0);
});

Deno.test({
  name:
    "waiting readers claim a shared turn, and all of them get in at a writer's release",
  ignore: WINDOWS,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/readers.lock`;
  const rw = new InterProcessReaderWriterLock(path);
  assert.equal(await rw.acquireWriteLock(), true);
  await using a = fixture("hold.ts", ["read", path, "300"]);
  await using b = fixture("hold.ts", ["read", path, "300"]);
  await eventually(() => claimsAt(path).length === 2, 10_000, "two claims");
  // Shared claims are negative: neither reader waits behind the other.
  assert.ok(claimsAt(path).every((claim) => claim < 0), `${claimsAt(path)}`);
  rw.releaseWriteLock();
  // Both hold the lock together (each holds it for 300 ms).
  const [atA, atB] = await Promise.all([
    a.waitFor("acquired").then((line) => Number(line.split(" ")[1])),
    b.waitFor("acquired").then((line) => Number(line.split(" ")[1])),
  ]);
  assert.ok(Math.abs(atA - atB) < 300, `${atA - atB} ms apart`);
  await a.waitFor("released");
  await b.waitFor("released");
  assert.deepEqual(claimsAt(path), []);
});

Deno.test({
  name:
    "a call that has not tried yet (it gave its turn away) counts the claims before its own; readers count only writers",
  ignore: WINDOWS,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/place.lock`;
  const lock = new InterProcessLock(path);
  assert.equal(await lock.acquire(), true); // creates the file with a queue
  lock.release();
  await new Promise((r) => setTimeout(r, 0));
  const now = performance.timeOrigin + performance.now();
  {
    using file = Deno.openSync(path, { read: true, write: true });
    writeClaim(file, 0, now - 10);
  }
  const contender = new FileContender(path, path, true, () => {});
  contender.waitStart = now;
  assert.equal(contender.queuePosition(), 1);
  contender.abandon();
  // A shared call waits behind an older exclusive claim, not a shared one.
  const reader = new FileContender(path, path, false, () => {});
  reader.waitStart = now;
  assert.equal(reader.queuePosition(), 1);
  {
    using file = Deno.openSync(path, { read: true, write: true });
    writeClaim(file, 0, -(now - 10));
  }
  assert.equal(reader.queuePosition(), 0);
  reader.abandon();
});
