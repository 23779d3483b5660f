// Regression tests: the waiting mark and the step-aside, the owner record at
// release, lock files replaced, renamed, rewritten or deleted by others, and
// waiting by watching the file whatever the options. Each test
// here guards a mutant of tests/mutants/mutants.ts.
import assert from "node:assert/strict";
import { InterProcessLock, readLockOwner } from "../mod.ts";
import { writeMark } from "../_file/_record.ts";
import { fixture, flockHolder, now, run, sleep, tempDir } from "./_helpers.ts";

const HAS_FLOCK = await run("flock", ["--version"]).then(
  (r) => r.code === 0,
  () => false,
);

/**
 * A waiter on `path` with a timeout and a 10 s backoff: only an event can
 * wake it much sooner.
 */
function slowWaiter(path: string) {
  const lock = new InterProcessLock(path);
  const waiting = lock.acquire({
    timeout: 30_000,
    delay: 10_000,
    maxDelay: 10_000,
  });
  return { lock, waiting };
}

/** A new file at `path`, locked exclusively through the returned handle. */
function lockedNewFile(path: string): Deno.FsFile {
  const file = Deno.openSync(path, { read: true, write: true, create: true });
  assert.equal(file.tryLockSync(true), true);
  return file;
}

/** Writes a fresh waiting mark of process `pid` into a library lock file. */
function markWaiting(path: string, pid: number): void {
  using file = Deno.openSync(path, { read: true, write: true });
  writeMark(file, { at: Date.now(), pid });
}

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* hold */ }
}

Deno.test("a mark left by a killed waiter does not keep a waiter with delay 0 or a long maxDelay from a free lock", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/dead.lock`;
  const holder = new InterProcessLock(path);
  await holder.acquire();
  {
    await using waiter = fixture("hold.ts", [
      "lock",
      path,
      "0",
      JSON.stringify({ timeout: 20_000 }),
    ]);
    // It tries, fails and marks that it waits.
    for (
      let i = 0;
      i < 200 && !/\d+ \d+/.test(Deno.readTextFileSync(path));
      i++
    ) {
      await sleep(50);
    }
    waiter.process.kill("SIGKILL");
    await waiter.process.status;
  }
  assert.match(Deno.readTextFileSync(path), /\d+ \d+/);
  for (const options of [{ delay: 0 }, { delay: 1, maxDelay: 1_000 }]) {
    await using child = fixture("hold.ts", [
      "lock",
      path,
      "0",
      JSON.stringify({ ...options, timeout: 5_000 }),
    ]);
    await sleep(200);
    holder.release();
    assert.match(await child.waitFor("acquired", 5_000), /^acquired/);
    await child.end();
    await holder.acquire();
  }
  holder.release();
});

/** A lock whose logger lines land in `log`. */
function loggedLock(path: string, log: string[]): InterProcessLock {
  return new InterProcessLock(path, {
    logger: { debug: (...data: unknown[]) => log.push(data.join(" ")) },
  });
}

const STEPPED_ASIDE =
  /^Stepping aside from the lock on ".*" for 2 ms: process 1 waits/;

Deno.test("a process on a streak steps aside at its release for a fresh mark of another process, not for an old one or its own", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/aside.lock`;
  const log: string[] = [];
  const lock = loggedLock(path, log);
  const cases = [
    { mark: { at: Date.now(), pid: 1 }, aside: true },
    // Counted for 5 s only: a waiter that died leaves no lasting mark.
    { mark: { at: Date.now() - 5_500, pid: 1 }, aside: false },
    { mark: { at: Date.now(), pid: Deno.pid }, aside: false },
  ];
  for (const { mark, aside } of cases) {
    log.length = 0;
    await sleep(10); // a new streak
    assert.equal(await lock.acquire(), true);
    {
      using file = Deno.openSync(path, { read: true, write: true });
      writeMark(file, mark);
    }
    spin(10); // a streak long enough to look for waiters at the release
    lock.release();
    assert.equal(
      log.some((line) => /^Stepping aside/.test(line)),
      aside,
      `${JSON.stringify(mark)}: ${log.join("\n")}`,
    );
  }
});

Deno.test("timeout 0 and blocking false right after a release with a waiter marked still try", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/aside.lock`;
  const log: string[] = [];
  const lock = loggedLock(path, log);
  for (const options of [{ timeout: 0 }, { blocking: false }]) {
    assert.equal(await lock.acquire(), true);
    // Another process (pid 1 is alive and not us) says that it waits.
    markWaiting(path, 1);
    spin(10); // a streak long enough to step aside at the release
    log.length = 0;
    lock.release();
    assert.ok(log.some((l) => STEPPED_ASIDE.test(l)), log.join("\n"));
    assert.equal(await lock.acquire(options), true, JSON.stringify(options));
    lock.release();
  }
  // A blocking call steps aside for a moment, then takes it.
  assert.equal(await lock.acquire({ timeout: 5_000 }), true);
  lock.release();
});

Deno.test({
  name:
    "readLockOwner names no exited holder once flock(1) holds the lock (released, or killed)",
  ignore: !HAS_FLOCK,
  async fn() {
    await using dir = await tempDir();
    for (const end of ["release", "SIGKILL"]) {
      const path = `${dir.path}/owner-${end}.lock`;
      {
        await using child = fixture("hold.ts", ["lock", path, "stdin"]);
        await child.waitFor("acquired");
        assert.equal(readLockOwner(path)?.pid, child.process.pid);
        if (end === "release") {
          await child.end();
        } else {
          child.process.kill("SIGKILL");
          await child.process.status;
        }
      }
      const holder = await flockHolder(path);
      assert.equal(readLockOwner(path), null, end);
      assert.equal(await holder.end(), 0);
    }
  },
});

Deno.test({
  name:
    "a live process's release empties its owner record: readLockOwner names no one once flock(1) holds the lock",
  ignore: !HAS_FLOCK,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/emptied.lock`;
    const lock = new InterProcessLock(path);
    assert.equal(await lock.acquire(), true);
    assert.match(Deno.readTextFileSync(path), new RegExp(`"pid":${Deno.pid}`));
    lock.release();
    assert.doesNotMatch(Deno.readTextFileSync(path), /"pid"/);
    const holder = await flockHolder(path);
    assert.equal(readLockOwner(path), null);
    assert.equal(await holder.end(), 0);
  },
});

Deno.test({
  name:
    "a lock file rewritten by another tool while processes wait is never written to",
  ignore: !HAS_FLOCK,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/foreign.lock`;
    const lock = new InterProcessLock(path);
    await lock.acquire(); // creates the file with its record block
    lock.release();
    const holder = await flockHolder(path);
    await using untimed = fixture("hold.ts", ["lock", path, "0"]);
    await using watching = fixture("hold.ts", [
      "lock",
      path,
      "0",
      JSON.stringify({ timeout: 20_000 }),
    ]);
    await sleep(300);
    // Another tool rewrites the file in place (same inode), longer than the
    // block, so that a write that skipped the magic check would land in it.
    const content = "another tool's content\n".repeat(20);
    using file = Deno.openSync(path, { write: true, truncate: true });
    file.writeSync(new TextEncoder().encode(content));
    // The waiters renew their marks every 2 s: each tries once in here.
    await sleep(3_000);
    assert.equal(await holder.end(), 0);
    await untimed.waitFor("acquired");
    await watching.waitFor("acquired");
    await untimed.end();
    await watching.end();
    assert.equal(Deno.readTextFileSync(path), content);
  },
});

Deno.test("a lock file deleted again and again by another process never makes acquire throw", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/deleted.lock`;
  const deleter = new Deno.Command("sh", {
    args: [
      "-c",
      'end=$(($(date +%s) + 3)); while [ "$(date +%s)" -lt "$end" ]; do rm -f "$0"; rm -f "$0"; rm -f "$0"; done',
      path,
    ],
  }).spawn();
  const lock = new InterProcessLock(path);
  let cycles = 0;
  const end = performance.now() + 1_500;
  while (performance.now() < end) {
    assert.equal(await lock.acquire({ timeout: 5_000 }), true);
    lock.release();
    assert.equal(await lock.acquire(), true);
    lock.release();
    cycles++;
  }
  deleter.kill();
  await deleter.status;
  assert.ok(cycles > 10);
});

Deno.test("a waiting call watches the file and backs off, with or without a timeout or a signal", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/modes.lock`;
  for (
    const options of [{}, { timeout: 10_000 }, {
      signal: new AbortController().signal,
    }]
  ) {
    await using holder = fixture("hold.ts", ["lock", path, "300"]);
    await holder.waitFor("acquired");
    const log: string[] = [];
    const lock = new InterProcessLock(path, {
      logger: { debug: (...data: unknown[]) => log.push(data.join(" ")) },
    });
    assert.equal(await lock.acquire(options), true);
    lock.release();
    await holder.end();
    assert.ok(log.some((l) => l.startsWith("Waiting up to")), log.join("\n"));
  }
});

for (const kind of ["lock", "write", "read", "semaphore"]) {
  Deno.test({
    name:
      `a process that disposes its waiting ${kind} (no options) ends within 500 ms while another tool keeps the lock`,
    ignore: !HAS_FLOCK,
    async fn() {
      await using dir = await tempDir();
      const path = `${dir.path}/dispose.lock`;
      const file = kind === "semaphore" ? `${path}.0` : path;
      const holder = await flockHolder(file);
      await using child = fixture("give_up.ts", [kind, path]);
      const disposed = Number((await child.waitFor("disposed")).split(" ")[1]);
      await child.waitFor("rejected");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ended = await Promise.race([
        child.process.status.then(() => now()),
        new Promise<number>((r) => timer = setTimeout(r, 3_000, Infinity)),
      ]);
      clearTimeout(timer);
      assert.ok(
        ended - disposed < 500,
        `the process lived ${
          (ended - disposed).toFixed(0)
        } ms after the dispose`,
      );
      assert.equal(await holder.end(), 0);
      const free = await run("flock", ["-n", "-x", file, "true"]);
      assert.equal(
        free.code,
        0,
        "the lock stayed held after the disposed wait",
      );
    },
  });
}

Deno.test({
  name:
    "a waiter with a timeout notices at once that the lock file was replaced (even when the new file reuses the inode)",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/replaced.lock`;
    // The old file stays locked by the child for the whole test.
    await using holder = fixture("hold.ts", ["lock", path, "stdin"]);
    await holder.waitFor("acquired");
    const lock = new InterProcessLock(path);
    const waiting = lock.acquire({ timeout: 20_000, maxDelay: 10_000 });
    await sleep(300);
    const oldInode = Deno.statSync(path).ino;
    // Replace it: a new, free file at the path (ext4 often reuses the inode
    // number at once, which once made waiters sleep 10 x maxDelay).
    Deno.removeSync(path);
    const replacedAt = performance.now();
    Deno.writeTextFileSync(path, "");
    assert.equal(await waiting, true);
    const waited = performance.now() - replacedAt;
    assert.ok(lock.isValid());
    lock.release();
    // Generous: its backoff is up to 10 s; the remove event wakes it.
    assert.ok(
      waited < 3_000,
      `waited ${waited.toFixed(0)} ms (inode ${oldInode})`,
    );
  },
});

Deno.test({
  name:
    "a waiter with a timeout wakes at once when its lock file is renamed away, even with a 10 s backoff",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/renamed.lock`;
    await using holder = fixture("hold.ts", ["lock", path, "stdin"]);
    await holder.waitFor("acquired");
    const { lock, waiting } = slowWaiter(path);
    await sleep(500);
    // The held file leaves the path; a new, free file takes its place.
    Deno.renameSync(path, `${path}.old`);
    Deno.writeTextFileSync(path, "");
    const renamedAt = performance.now();
    assert.equal(await waiting, true);
    const waited = performance.now() - renamedAt;
    assert.ok(lock.isValid());
    lock.release();
    // Without the rename event it would sleep its 10 s backoff.
    assert.ok(waited < 5_000, `waited ${waited.toFixed(0)} ms`);
  },
});

Deno.test({
  name:
    "a waiter woken after its lock file was replaced never holds the old file while the new one is held",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/orphan.lock`;
    await using old = fixture("hold.ts", ["lock", path, "stdin"]);
    await old.waitFor("acquired");
    // A waiter in another process keeps the old file open while it waits.
    await using waiter = fixture("hold.ts", [
      "lock",
      path,
      "0",
      JSON.stringify({ timeout: 30_000, delay: 5_000, maxDelay: 5_000 }),
    ]);
    for (
      let i = 0;
      i < 200 && !/\d+ \d+/.test(Deno.readTextFileSync(path));
      i++
    ) {
      await sleep(50);
    }
    assert.match(Deno.readTextFileSync(path), /\d+ \d+/, "the waiter waits");
    // A new file, already locked by this process, is renamed over the path.
    const fresh = lockedNewFile(`${path}.new`);
    Deno.renameSync(`${path}.new`, path);
    // The old holder's release wakes the waiter, whose try on the old file
    // succeeds: that lock protects nothing, so it must go on waiting.
    await old.end();
    await sleep(1_000);
    const releasedAt = now();
    fresh.close(); // a release by closing, as most tools do
    const acquiredAt = Number((await waiter.waitFor("acquired")).split(" ")[1]);
    // Two processes' clocks agree within a millisecond or so.
    assert.ok(
      acquiredAt >= releasedAt - 5,
      `the waiter held the old file ${
        (releasedAt - acquiredAt).toFixed(0)
      } ms before the new one was free`,
    );
    // It watches the new file (a 5 s backoff is all it has without that).
    assert.ok(
      acquiredAt - releasedAt < 3_000,
      `the waiter took ${(acquiredAt - releasedAt).toFixed(0)} ms`,
    );
    await waiter.end();
  },
});

/** The waiting mark of a library lock file, as its text ("" when empty). */
function markOf(path: string): string {
  return Deno.readTextFileSync(path).slice(36, 68).trim();
}

Deno.test("a waiting call renews its mark every 2 s, and empties it when it gives up and when it wins", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/mark.lock`;
  await using holder = fixture("hold.ts", ["lock", path, "stdin"]);
  await holder.waitFor("acquired");
  const lock = new InterProcessLock(path);
  const givingUp = lock.acquire({ timeout: 2_700 });
  await sleep(300);
  const first = markOf(path);
  assert.match(first, new RegExp(`^\\d+ ${Deno.pid}( w)?$`));
  await sleep(2_100);
  const renewed = markOf(path);
  assert.match(renewed, new RegExp(`^\\d+ ${Deno.pid}( w)?$`));
  assert.ok(
    Number(renewed.split(" ")[0]) >= Number(first.split(" ")[0]) + 1_500,
    `${first} -> ${renewed}`,
  );
  assert.equal(await givingUp, false);
  assert.equal(markOf(path), "", "the mark stays after giving up");
  const winning = lock.acquire({ timeout: 20_000 });
  await sleep(300);
  assert.notEqual(markOf(path), "");
  await holder.end();
  assert.equal(await winning, true);
  assert.equal(markOf(path), "", "the mark stays after winning");
  lock.release();
});

Deno.test({
  name:
    "a waiter with a timeout notices a file renamed over the path while it keeps the old one open",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/over.lock`;
    // The old file stays locked by the child for the whole test.
    await using holder = fixture("hold.ts", ["lock", path, "stdin"]);
    await holder.waitFor("acquired");
    const { lock, waiting } = slowWaiter(path);
    await sleep(500);
    // A new file, locked by this process, is renamed over the path.
    const fresh = lockedNewFile(`${path}.new`);
    Deno.renameSync(`${path}.new`, path);
    await sleep(500);
    const releasedAt = performance.now();
    fresh.close();
    assert.equal(await waiting, true);
    const waited = performance.now() - releasedAt;
    assert.ok(lock.isValid());
    lock.release();
    // Blind to the rename, it would sleep its 10 s backoff.
    assert.ok(waited < 1_000, `waited ${waited.toFixed(0)} ms`);
  },
});

Deno.test({
  name:
    "a short timeout holds call after call on one path (a new watcher's settle waits within the deadline)",
  ignore: Deno.build.os === "windows",
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/busy.lock`;
  Deno.writeTextFileSync(path, "");
  const holder = await flockHolder(path);
  try {
    using lock = new InterProcessLock(path);
    const took: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = now();
      assert.equal(await lock.acquire({ timeout: 5 }), false);
      took.push(now() - start);
    }
    took.sort((a, b) => a - b);
    // Unloaded every call takes about 5 ms; a settle that ignored the
    // deadline made every call after the first take 50 ms.
    assert(took[5] < 35, `median ${took[5].toFixed(0)} ms: ${took}`);
  } finally {
    await holder.end();
  }
});
