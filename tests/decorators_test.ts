// The decorators: as wrappers and as TC39 method decorators; exclusion of
// concurrent calls; release on return, throw and rejection; timeouts.
import assert from "node:assert/strict";
import {
  InterProcessLock,
  interprocessLocked,
  InterProcessReaderWriterLock,
  interprocessReadLocked,
  interprocessWriteLocked,
  LockTimeoutError,
} from "../mod.ts";
import { sleep, tempDir } from "./_helpers.ts";

async function isFree(path: string): Promise<boolean> {
  using probe = new InterProcessLock(path);
  return await probe.acquire({ blocking: false });
}

Deno.test("wrapper: arguments, this and the result pass through; released after", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/d.lock`;
  const seen: unknown[] = [];
  const wrapped = interprocessLocked(path)(async function (
    this: { name: string },
    a: number,
    b: string,
  ) {
    seen.push(this.name, a, b, await isFree(path));
    return `${a}${b}`;
  });
  const result = await wrapped.call({ name: "ctx" }, 1, "x");
  assert.equal(result, "1x");
  assert.deepEqual(seen, ["ctx", 1, "x", false]);
  assert.equal(await isFree(path), true);
});

Deno.test("wrapper: a sync function is held too and its value returned", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/d.lock`;
  const wrapped = interprocessLocked(path)((x: number) => x + 1);
  assert.equal(await wrapped(1), 2);
});

Deno.test("the lock is released when the function throws or rejects", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/d.lock`;
  const throws = interprocessLocked(path)(() => {
    throw new Error("sync boom");
  });
  await assert.rejects(throws(), /sync boom/);
  assert.equal(await isFree(path), true);
  const rejects = interprocessWriteLocked(path)(async () => {
    await sleep(1);
    throw new Error("async boom");
  });
  await assert.rejects(rejects(), /async boom/);
  assert.equal(await isFree(path), true);
  const readRejects = interprocessReadLocked(path)(() =>
    Promise.reject(new Error("read boom"))
  );
  await assert.rejects(readRejects(), /read boom/);
  assert.equal(await isFree(path), true);
});

Deno.test("concurrent calls of one decorated function never overlap", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/d.lock`;
  let inside = 0;
  let most = 0;
  const critical = interprocessLocked(path)(async (i: number) => {
    inside++;
    most = Math.max(most, inside);
    await sleep(3);
    inside--;
    return i;
  });
  const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => critical(i)));
  assert.deepEqual(results, [0, 1, 2, 3, 4, 5]);
  assert.equal(most, 1);
});

Deno.test("read-locked calls share; a write-locked call excludes them", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/d.lock`;
  let readers = 0;
  let mostReaders = 0;
  let writerOverlap = false;
  let writing = false;
  const read = interprocessReadLocked(path)(async () => {
    readers++;
    mostReaders = Math.max(mostReaders, readers);
    if (writing) writerOverlap = true;
    await sleep(20);
    readers--;
  });
  const write = interprocessWriteLocked(path)(async () => {
    if (readers > 0) writerOverlap = true;
    writing = true;
    await sleep(20);
    writing = false;
  });
  await Promise.all([read(), read(), read(), write(), read()]);
  assert.ok(mostReaders >= 2, `at most ${mostReaders} readers at once`);
  assert.equal(writerOverlap, false);
});

Deno.test("TC39 method decorators keep this and arguments", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/d.lock`;
  class Store {
    count = 0;
    @interprocessLocked(path)
    async add(n: number): Promise<number> {
      const before = this.count;
      await sleep(2);
      this.count = before + n;
      return this.count;
    }
    @interprocessReadLocked(path)
    get(): Promise<number> {
      return Promise.resolve(this.count);
    }
    @interprocessWriteLocked(path, { timeout: 5_000 })
    reset(): Promise<void> {
      this.count = 0;
      return Promise.resolve();
    }
  }
  const store = new Store();
  await Promise.all([store.add(1), store.add(2), store.add(3)]);
  assert.equal(store.count, 6, "no lost update between concurrent calls");
  assert.equal(await store.get(), 6);
  await store.reset();
  assert.equal(await store.get(), 0);
});

Deno.test("a timeout that passes rejects with LockTimeoutError and the function does not run", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/d.lock`;
  const rw = new InterProcessReaderWriterLock(path);
  await rw.acquireWriteLock();
  let ran = 0;
  for (
    const decorate of [
      interprocessLocked,
      interprocessReadLocked,
      interprocessWriteLocked,
    ]
  ) {
    const fn = decorate(path, { timeout: 50 })(() => ran++);
    await assert.rejects(fn(), (e: Error) => {
      assert.ok(e instanceof LockTimeoutError);
      assert.equal(e.path, path);
      assert.equal(e.timeout, 50);
      assert.match(
        e.message,
        /Timed out after 50 ms waiting for the lock on ".*d\.lock"/,
      );
      return true;
    });
    const nonBlocking = decorate(path, { blocking: false })(() => ran++);
    await assert.rejects(
      nonBlocking(),
      (e: Error) => e instanceof LockTimeoutError && e.timeout === 0,
    );
  }
  assert.equal(ran, 0);
  rw.releaseWriteLock();
});

Deno.test("readLock() and writeLock(): scoped handles, LockTimeoutError on timeout", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/rw.lock`;
  const rw = new InterProcessReaderWriterLock(path);
  {
    await using _a = await rw.readLock();
    await using _b = await rw.readLock();
    assert.equal(rw.readers, 2);
    const other = new InterProcessReaderWriterLock(path);
    await assert.rejects(other.writeLock({ timeout: 30 }), LockTimeoutError);
    await assert.rejects(rw.writeLock({ blocking: false }), LockTimeoutError);
  }
  assert.equal(rw.readers, 0);
  {
    using _w = await rw.writeLock();
    assert.equal(rw.writing, true);
    const other = new InterProcessReaderWriterLock(path);
    await assert.rejects(other.readLock({ timeout: 30 }), LockTimeoutError);
  }
  assert.equal(rw.writing, false);
  // A handle disposed after an explicit release does nothing.
  const handle = await rw.writeLock();
  rw.releaseWriteLock();
  handle[Symbol.dispose]();
  assert.equal(await isFree(path), true);
});

Deno.test("reader-writer inside one process: readers share, writers exclude", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/rw.lock`;
  const a = new InterProcessReaderWriterLock(path);
  const b = new InterProcessReaderWriterLock(path);
  assert.equal(await a.acquireReadLock(), true);
  assert.equal(await b.acquireReadLock({ blocking: false }), true);
  assert.equal(await a.acquireWriteLock({ blocking: false }), false);
  // A writer waits for both readers; then readers wait for it.
  const writing = a.acquireWriteLock({ timeout: 5_000 });
  await sleep(30);
  assert.equal(a.writing, false);
  a.releaseReadLock();
  await sleep(30);
  assert.equal(a.writing, false);
  b.releaseReadLock();
  assert.equal(await writing, true);
  assert.equal(await b.acquireReadLock({ timeout: 30 }), false);
  a.releaseWriteLock();
  assert.equal(await b.acquireReadLock({ blocking: false }), true);
  b.releaseReadLock();
});
