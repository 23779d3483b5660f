// Single-process costs, each beside the raw Deno primitive in the same run.
//
//   deno bench --allow-read --allow-write --allow-sys=hostname bench/
import {
  FileLockManager,
  InterProcessLock,
  InterProcessReaderWriterLock,
} from "../mod.ts";

const dir = Deno.makeTempDirSync({ prefix: "process-lock-bench-" });
const rawPath = `${dir}/raw.lock`;
const path = `${dir}/lib.lock`;
const rwPath = `${dir}/rw.lock`;
const OPEN: Deno.OpenOptions = { read: true, write: true, create: true };
Deno.writeTextFileSync(rawPath, "");

/** The raw primitive: open, try, unlock, close. */
function rawTry(): void {
  const file = Deno.openSync(rawPath, OPEN);
  if (!file.tryLockSync(true)) throw new Error("busy");
  file.unlockSync();
  file.close();
}

Deno.bench({
  name: "raw: openSync + tryLockSync(true) + unlockSync + close",
  group: "uncontended exclusive acquire+release",
  baseline: true,
  fn: rawTry,
});

Deno.bench({
  name: "raw: open + await lock(true) + unlock + close",
  group: "uncontended exclusive acquire+release",
  async fn() {
    const file = await Deno.open(rawPath, OPEN);
    await file.lock(true);
    await file.unlock();
    file.close();
  },
});

Deno.bench({
  name: "raw, plus the unlink check: fstat + stat after locking",
  group: "uncontended exclusive acquire+release",
  fn() {
    const file = Deno.openSync(rawPath, OPEN);
    if (!file.tryLockSync(true)) throw new Error("busy");
    if (file.statSync().ino !== Deno.statSync(rawPath).ino) {
      throw new Error("replaced");
    }
    file.unlockSync();
    file.close();
  },
});

const lock = new InterProcessLock(path);
const foreign = `${dir}/foreign.lock`;
Deno.writeTextFileSync(foreign, "");
const foreignLock = new InterProcessLock(foreign);
Deno.bench({
  name: "InterProcessLock on a file made by another tool",
  group: "uncontended exclusive acquire+release",
  async fn() {
    if (!(await foreignLock.acquire())) throw new Error("busy");
    foreignLock.release();
  },
});

Deno.bench({
  name: "InterProcessLock on its own file: await acquire() + release()",
  group: "uncontended exclusive acquire+release",
  async fn() {
    if (!(await lock.acquire())) throw new Error("busy");
    lock.release();
  },
});

const rw = new InterProcessReaderWriterLock(rwPath);
Deno.bench({
  name: "raw: openSync + tryLockSync(false) + unlockSync + close",
  group: "uncontended shared acquire+release",
  baseline: true,
  fn() {
    const file = Deno.openSync(rawPath, OPEN);
    if (!file.tryLockSync(false)) throw new Error("busy");
    file.unlockSync();
    file.close();
  },
});

Deno.bench({
  name:
    "InterProcessReaderWriterLock: await acquireReadLock() + releaseReadLock()",
  group: "uncontended shared acquire+release",
  async fn() {
    if (!(await rw.acquireReadLock())) throw new Error("busy");
    rw.releaseReadLock();
  },
});

Deno.bench({
  name:
    "InterProcessReaderWriterLock: await acquireWriteLock() + releaseWriteLock()",
  group: "uncontended shared acquire+release",
  async fn() {
    if (!(await rw.acquireWriteLock())) throw new Error("busy");
    rw.releaseWriteLock();
  },
});

const busyPath = `${dir}/busy.lock`;
const held = Deno.openSync(busyPath, OPEN);
held.tryLockSync(true);
const busy = new InterProcessLock(busyPath);
Deno.bench({
  name: "raw: openSync + tryLockSync(true) fails + close",
  group: "non-blocking try on a held lock",
  baseline: true,
  fn() {
    const file = Deno.openSync(busyPath, OPEN);
    if (file.tryLockSync(true)) throw new Error("not busy");
    file.close();
  },
});
Deno.bench({
  name: "InterProcessLock: await acquire({ blocking: false }) fails",
  group: "non-blocking try on a held lock",
  async fn() {
    if (await busy.acquire({ blocking: false })) throw new Error("not busy");
  },
});

globalThis.addEventListener("unload", () => {
  held.close();
  Deno.removeSync(dir, { recursive: true });
});

// The Web Locks managers: request() beside acquire() + release() of the
// same backend, and beside Deno's own navigator.locks (one process only).
const managerDir = `${dir}/managed`;
const locks = new FileLockManager({ dir: managerDir });
const managedLock = new InterProcessLock(`${dir}/managed-baseline.lock`);
const navigatorLocks = (navigator as unknown as {
  locks: { request(name: string, fn: () => void): Promise<void> };
}).locks;
Deno.bench({
  name: "raw: openSync + tryLockSync(true) + unlockSync + close",
  group: "web locks: uncontended request",
  fn: rawTry,
});
Deno.bench({
  name: "InterProcessLock acquire() + release()",
  group: "web locks: uncontended request",
  baseline: true,
  async fn() {
    if (!(await managedLock.acquire())) throw new Error("busy");
    managedLock.release();
  },
});
Deno.bench({
  name: "FileLockManager request()",
  group: "web locks: uncontended request",
  async fn() {
    await locks.request("job", () => {});
  },
});
Deno.bench({
  name: "navigator.locks request() (one process only)",
  group: "web locks: uncontended request",
  async fn() {
    await navigatorLocks.request("job", () => {});
  },
});
