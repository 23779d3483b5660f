// Across real processes: exclusion, a SIGKILLed holder, reader-writer
// sharing, wake-up on release, and flock(1) interoperation.
import assert from "node:assert/strict";
import { InterProcessLock, InterProcessReaderWriterLock } from "../mod.ts";
import { fixture, now, run, tempDir } from "./_helpers.ts";

const HAS_FLOCK = await run("flock", ["--version"]).then(
  (r) => r.code === 0,
  () => false,
);

Deno.test("a lock held by another process excludes this one until released", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  await using child = fixture("hold.ts", ["lock", path]);
  await child.waitFor("acquired");
  const lock = new InterProcessLock(path);
  assert.equal(await lock.acquire({ blocking: false }), false);
  assert.equal(await lock.acquire({ timeout: 100 }), false);
  await child.closeStdin();
  await child.waitFor("released");
  assert.equal(await lock.acquire({ timeout: 10_000 }), true);
  lock.release();
  assert.equal((await child.end()).status.code, 0);
});

Deno.test("this process's lock excludes another process", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  const lock = new InterProcessLock(path);
  await lock.acquire();
  {
    await using child = fixture("hold.ts", [
      "lock",
      path,
      "0",
      JSON.stringify({ blocking: false }),
    ]);
    const { status, rest } = await child.end();
    assert.equal(status.code, 3);
    assert.deepEqual(rest, ["not-acquired"]);
  }
  lock.release();
  await using child = fixture("hold.ts", [
    "lock",
    path,
    "0",
    JSON.stringify({ blocking: false }),
  ]);
  assert.ok((await child.waitFor("acquired")).length > 0);
  assert.equal((await child.end()).status.code, 0);
});

Deno.test("a holder killed with SIGKILL frees the lock; nothing is deleted", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  await using child = fixture("hold.ts", ["lock", path]);
  await child.waitFor("acquired");
  const lock = new InterProcessLock(path);
  const waiting = lock.acquire({ timeout: 10_000 });
  await new Promise((r) => setTimeout(r, 100));
  const killedAt = now();
  child.process.kill("SIGKILL");
  assert.equal(await waiting, true);
  const waited = now() - killedAt;
  assert.ok(waited < 1_000, `took ${waited} ms after the kill`);
  assert.ok(Deno.statSync(path).isFile);
  lock.release();
});

Deno.test("a release wakes a waiting process long before its backoff timer", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  await using child = fixture("hold.ts", ["lock", path]);
  await child.waitFor("acquired");
  const lock = new InterProcessLock(path);
  // The timer alone would retry only after 30 s.
  const waiting = lock.acquire({
    delay: 30_000,
    maxDelay: 30_000,
    timeout: 20_000,
  });
  await new Promise((r) => setTimeout(r, 100));
  await child.closeStdin();
  const released = Number((await child.waitFor("released")).split(" ")[1]);
  assert.equal(await waiting, true);
  const late = now() - released;
  assert.ok(late < 2_000, `woke ${late} ms after the release`);
  lock.release();
});

Deno.test("reader-writer: two processes read at once", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/rw.lock`;
  await using a = fixture("hold.ts", ["read", path]);
  await a.waitFor("acquired");
  await using b = fixture("hold.ts", [
    "read",
    path,
    "stdin",
    JSON.stringify({ timeout: 5_000 }),
  ]);
  await b.waitFor("acquired");
  // And this process can read too, but not write.
  const rw = new InterProcessReaderWriterLock(path);
  assert.equal(await rw.acquireReadLock({ blocking: false }), true);
  rw.releaseReadLock();
  assert.equal(await rw.acquireWriteLock({ blocking: false }), false);
  await a.end();
  await b.end();
  assert.equal(await rw.acquireWriteLock({ blocking: false }), true);
  rw.releaseWriteLock();
});

/** How far apart (ms) the clocks of two processes may be read. */
const SKEW_MS = 5;

Deno.test("reader-writer: a writer waits for readers, readers wait for a writer", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/rw.lock`;
  await using reader = fixture("hold.ts", ["read", path]);
  await reader.waitFor("acquired");
  const rw = new InterProcessReaderWriterLock(path);
  const writing = rw.acquireWriteLock({ timeout: 10_000 }).then((ok) => ({
    ok,
    at: now(),
  }));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(rw.writing, false);
  await reader.closeStdin();
  const readerReleased = Number(
    (await reader.waitFor("released")).split(" ")[1],
  );
  const written = await writing;
  assert.equal(written.ok, true);
  // Clocks of two processes agree within a millisecond or so (timeOrigin).
  assert.ok(
    written.at >= readerReleased - SKEW_MS,
    `the writer got in ${
      readerReleased - written.at
    } ms before the reader left`,
  );

  await using reader2 = fixture("hold.ts", [
    "read",
    path,
    "stdin",
    JSON.stringify({ timeout: 10_000 }),
  ]);
  await new Promise((r) => setTimeout(r, 300));
  const writerReleased = now();
  rw.releaseWriteLock();
  const acquired = Number((await reader2.waitFor("acquired")).split(" ")[1]);
  assert.ok(
    acquired >= writerReleased - SKEW_MS,
    `the reader got in ${writerReleased - acquired} ms before the writer left`,
  );
  await reader2.end();
});

Deno.test({
  name: "flock(1) and this library see each other's locks",
  ignore: !HAS_FLOCK,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/f.lock`;
    const lock = new InterProcessLock(path);
    await lock.acquire();
    // flock -n exits 1 on conflict.
    assert.equal((await run("flock", ["-n", "-x", path, "true"])).code, 1);
    assert.equal((await run("flock", ["-n", "-s", path, "true"])).code, 1);
    lock.release();
    assert.equal((await run("flock", ["-n", "-x", path, "true"])).code, 0);

    // flock(1) holds exclusively: we cannot lock, then can after it ends.
    const holder = new Deno.Command("flock", {
      args: ["-x", path, "-c", "echo held; read _ || true"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const reader = holder.stdout.getReader();
    await reader.read();
    assert.equal(await lock.acquire({ blocking: false }), false);
    const rw = new InterProcessReaderWriterLock(path);
    assert.equal(await rw.acquireReadLock({ blocking: false }), false);
    await holder.stdin.close();
    reader.releaseLock();
    await holder.stdout.cancel();
    assert.equal((await holder.status).code, 0);
    assert.equal(await lock.acquire({ timeout: 5_000 }), true);
    lock.release();

    // flock -s shares with our readers and excludes our writer.
    assert.equal(await rw.acquireReadLock(), true);
    assert.equal((await run("flock", ["-n", "-s", path, "true"])).code, 0);
    assert.equal((await run("flock", ["-n", "-x", path, "true"])).code, 1);
    rw.releaseReadLock();
  },
});

for (const made of ["by this library", "by another tool"]) {
  Deno.test(`a process that keeps re-acquiring does not shut out a waiting process (file made ${made})`, async () => {
    await using dir = await tempDir();
    const path = `${dir.path}/busy.lock`;
    // A file made by another tool has no room for the waiting mark.
    if (made === "by another tool") Deno.writeTextFileSync(path, "");
    const lock = new InterProcessLock(path);
    // No pause of its own. In its own file, after a 5 ms streak, seeing the
    // child's waiting mark, it steps aside for 2 ms. In another tool's file
    // the kernel alone decides: each release closes the file, and the
    // waiter that the close wakes usually gets in before the next open.
    // Until the waiter gets in; it is shut out if the loop's 15 s end first
    // (its start-up, slow under load, counts for nothing).
    const loopMs = 15_000;
    const end = performance.now() + loopMs;
    let loops = 0;
    // The child starts waiting while this process loops.
    await using child = fixture("hold.ts", [
      "lock",
      path,
      "0",
      JSON.stringify({ timeout: 30_000 }),
    ]);
    const childGot = child.waitFor("acquired", 30_000).then((line) =>
      Number(line.split(" ")[1])
    );
    let gotAt: number | undefined;
    childGot.then((at) => gotAt = at);
    while (performance.now() < end && gotAt === undefined) {
      assert.equal(await lock.acquire(), true);
      const spin = performance.now() + 0.2;
      while (performance.now() < spin) { /* work under the lock */ }
      lock.release();
      loops++;
    }
    const at = await childGot;
    const loopEnd = performance.timeOrigin + end;
    assert.ok(
      at < loopEnd,
      `the waiter got in only ${
        (at - loopEnd).toFixed(0)
      } ms after the ${loopMs} ms busy loop ended`,
    );
    assert.ok(loops > 10);
    await child.end();
  });
}
