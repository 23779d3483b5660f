// The lock file: its content is left alone, owner records, a file deleted or
// replaced while held or awaited, and the polling fallback when the file
// cannot be watched.
import assert from "node:assert/strict";
import {
  InterProcessLock,
  InterProcessReaderWriterLock,
  readLockOwner,
} from "../mod.ts";
import { fixture, now, run, sleep, tempDir } from "./_helpers.ts";

Deno.test("the content of an existing file is left untouched", async () => {
  await using dir = await tempDir();
  for (const content of ["precious data\n", "", "x".repeat(256)]) {
    const path = `${dir.path}/existing-${content.length}.lock`;
    Deno.writeTextFileSync(path, content);
    const lock = new InterProcessLock(path);
    await lock.acquire();
    lock.release();
    const rw = new InterProcessReaderWriterLock(path);
    await rw.acquireWriteLock();
    rw.releaseWriteLock();
    await rw.acquireReadLock();
    rw.releaseReadLock();
    assert.equal(Deno.readTextFileSync(path), content);
    // And such a file gives no owner.
    await lock.acquire();
    assert.equal(readLockOwner(path), null);
    lock.release();
  }
});

Deno.test({
  name:
    "anyFile: a directory or a read-only file is the lock, as flock(1) sees it, and is never written; without it, an error names the path",
  ignore: Deno.build.os === "windows",
}, async () => {
  await using dir = await tempDir();
  const readOnly = `${dir.path}/read-only`;
  Deno.writeTextFileSync(readOnly, "keep\n");
  Deno.chmodSync(readOnly, 0o444);
  for (const path of [dir.path, readOnly]) {
    using lock = new InterProcessLock(path, { anyFile: true });
    assert(await lock.acquire({ blocking: false }));
    assert.equal((await run("flock", ["-n", path, "true"])).code, 1);
    lock.release();
    assert.equal((await run("flock", ["-n", path, "true"])).code, 0);
  }
  assert.equal(Deno.readTextFileSync(readOnly), "keep\n");
  using plain = new InterProcessLock(dir.path);
  await assert.rejects(
    () => plain.acquire({ blocking: false }),
    (error: Error) => error.message.includes(`"${dir.path}"`),
  );
});

Deno.test("readLockOwner names the holding process, and null once it is gone", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/owned.lock`;
  assert.equal(readLockOwner(path), null, "no file yet");
  for (const kind of ["lock", "write"]) {
    const before = Date.now();
    await using child = fixture("hold.ts", [kind, path]);
    await child.waitFor("acquired");
    const owner = readLockOwner(path);
    assert.ok(owner, "an owner while held");
    assert.equal(owner.pid, child.process.pid);
    assert.equal(owner.hostname, Deno.hostname());
    assert.ok(
      owner.since.getTime() >= before - 1_000 &&
        owner.since.getTime() <= Date.now(),
    );
    await child.end();
    assert.equal(readLockOwner(new URL(`file://${path}`)), null, "released");
  }
  // The file keeps one fixed-size record: rewriting never grows it.
  const size = Deno.statSync(path).size;
  const lock = new InterProcessLock(path);
  await lock.acquire();
  assert.equal(readLockOwner(path)?.pid, Deno.pid);
  lock.release();
  assert.equal(Deno.statSync(path).size, size);
});

Deno.test("readers record nothing and readLockOwner reports null for them", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/read.lock`;
  const writer = new InterProcessReaderWriterLock(path);
  await writer.acquireWriteLock();
  writer.releaseWriteLock();
  // The writer empties its owner record as it closes the file, at the end
  // of the job.
  await new Promise((r) => setTimeout(r, 0));
  const bytes = Deno.readFileSync(path);
  await using a = fixture("hold.ts", ["read", path]);
  await a.waitFor("acquired");
  await using b = fixture("hold.ts", ["read", path]);
  await b.waitFor("acquired");
  assert.equal(readLockOwner(path), null);
  assert.deepEqual(Deno.readFileSync(path), bytes, "readers did not write");
});

// Windows cannot delete or replace a file that is open.
Deno.test({
  name:
    "a held file that is deleted: isValid() turns false and a new holder locks the new file",
  ignore: Deno.build.os === "windows",
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/gone.lock`;
  const a = new InterProcessLock(path);
  await a.acquire();
  assert.equal(a.isValid(), true);
  Deno.removeSync(path);
  assert.equal(a.acquired, true, "acquired keeps its meaning");
  assert.equal(a.isValid(), false);
  const b = new InterProcessLock(path);
  assert.equal(await b.acquire({ blocking: false }), true);
  assert.equal(b.isValid(), true);
  a.release();
  b.release();
  assert.equal(a.isValid(), false, "not held");
});

// Windows cannot delete or replace a file that is open.
Deno.test({
  name:
    "a held file that is replaced by rename: isValid() turns false, for both lock kinds",
  ignore: Deno.build.os === "windows",
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/replaced.lock`;
  const a = new InterProcessLock(path);
  const rw = new InterProcessReaderWriterLock(`${dir.path}/rw.lock`);
  await a.acquire();
  await rw.acquireReadLock();
  for (const p of [path, `${dir.path}/rw.lock`]) {
    Deno.writeTextFileSync(`${p}.new`, "");
    Deno.renameSync(`${p}.new`, p);
  }
  assert.equal(a.isValid(), false);
  assert.equal(rw.isValid(), false);
  const b = new InterProcessLock(path);
  assert.equal(await b.acquire({ blocking: false }), true);
  b.release();
  a.release();
  rw.releaseReadLock();
});

// Windows cannot delete or replace a file that is open.
Deno.test({
  name:
    "a waiter whose file is deleted while it waits locks the file that is there now",
  ignore: Deno.build.os === "windows",
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/swap.lock`;
  await using child = fixture("hold.ts", ["lock", path]);
  await child.waitFor("acquired");
  const waiter = new InterProcessLock(path);
  const waiting = waiter.acquire({ delay: 20, maxDelay: 20, timeout: 10_000 });
  await sleep(100);
  // The child still holds the old, now nameless, file.
  Deno.removeSync(path);
  assert.equal(await waiting, true);
  assert.equal(waiter.isValid(), true);
  // Any later holder sees the waiter's lock on the new file.
  const third = new InterProcessLock(path);
  assert.equal(await third.acquire({ blocking: false }), false);
  waiter.release();
  await child.end();
});

Deno.test("when the file cannot be watched, waiters fall back to polling, and say so", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/poll.lock`;
  const original = Deno.watchFs;
  // What Deno.watchFs does when inotify instances or watches run out.
  Deno.watchFs = () => {
    throw new Error("Too many open files (os error 24)");
  };
  try {
    // Without events, a 30 s backoff means that a release after 100 ms is
    // only seen by the last try, at the 1 s deadline.
    {
      await using child = fixture("hold.ts", ["lock", path, "stdin"]);
      await child.waitFor("acquired");
      const lock = new InterProcessLock(path);
      const start = performance.now();
      const waiting = lock.acquire({ delay: 30_000, timeout: 1_000 });
      await sleep(100);
      await child.closeStdin();
      assert.equal(await waiting, true);
      const waited = performance.now() - start;
      assert.ok(
        waited >= 950,
        `acquired after ${waited} ms: woken by an event?`,
      );
      lock.release();
      await child.end();
    }
    // With a short backoff, polling finds the release.
    await using child = fixture("hold.ts", ["lock", path, "200"]);
    await child.waitFor("acquired");
    const log: string[] = [];
    const lock = new InterProcessLock(path, {
      logger: { debug: (...data: unknown[]) => log.push(data.join(" ")) },
    });
    assert.equal(
      await lock.acquire({ delay: 20, maxDelay: 20, timeout: 10_000 }),
      true,
    );
    lock.release();
    assert.ok(
      log.some((line) =>
        /Cannot watch ".*poll\.lock".*Too many open files.*polling/.test(line)
      ),
      log.join("\n"),
    );
    await child.end();
  } finally {
    Deno.watchFs = original;
  }
});

Deno.test("a reader's release wakes a waiting writer in another process at once", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/wake.lock`;
  await using reader = fixture("hold.ts", ["read", path]);
  await reader.waitFor("acquired");
  const rw = new InterProcessReaderWriterLock(path);
  const writing = rw.acquireWriteLock({
    delay: 30_000,
    maxDelay: 30_000,
    timeout: 20_000,
  });
  await sleep(100);
  await reader.closeStdin();
  const released = Number((await reader.waitFor("released")).split(" ")[1]);
  assert.equal(await writing, true);
  const late = now() - released;
  assert.ok(late < 2_000, `woke ${late} ms after the release`);
  rw.releaseWriteLock();
});

Deno.test("waiters of one process share one watcher per lock file, closed when the last leaves", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/shared-watch.lock`;
  const original = Deno.watchFs;
  const opened: Deno.FsWatcher[] = [];
  Deno.watchFs = (...args: Parameters<typeof Deno.watchFs>) => {
    const watcher = original(...args);
    opened.push(watcher);
    return watcher;
  };
  try {
    await using holder = fixture("hold.ts", ["lock", path]);
    await holder.waitFor("acquired");
    const waiters = [0, 1, 2].map(() => new InterProcessLock(path));
    const waiting = waiters.map((lock) => lock.acquire({ timeout: 10_000 }));
    await sleep(100);
    assert.equal(opened.length, 1, "one watcher for three waiting calls");
    await holder.closeStdin();
    for (const [i, result] of waiting.entries()) {
      assert.equal(await result, true);
      waiters[i].release();
    }
    await holder.end();
  } finally {
    Deno.watchFs = original;
  }
  // The resource sanitizer fails this test if the watcher were left open.
});
