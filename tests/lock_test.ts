// InterProcessLock inside one process: acquisition, release, options,
// backoff, timeouts, cancellation, disposal and in-process exclusion.
import assert from "node:assert/strict";
import { InterProcessLock, InterProcessReaderWriterLock } from "../mod.ts";
import { fixture, rawHolder, sleep, tempDir } from "./_helpers.ts";

/** A sleep function that honours its signal and records every request. */
function recordingSleep(
  sleeps: number[],
): (ms: number, options?: { signal?: AbortSignal }) => Promise<void> {
  return (ms, options) => {
    sleeps.push(ms);
    return new Promise<void>((resolve) => {
      const id = setTimeout(resolve, ms);
      options?.signal?.addEventListener("abort", () => {
        clearTimeout(id);
        resolve();
      });
    });
  };
}

Deno.test("acquire, release and the acquired flag", async () => {
  await using dir = await tempDir();
  const lock = new InterProcessLock(`${dir.path}/a.lock`);
  assert.equal(lock.acquired, false);
  assert.equal(await lock.acquire(), true);
  assert.equal(lock.acquired, true);
  lock.release();
  assert.equal(lock.acquired, false);
  assert.equal(await lock.acquire({ blocking: false }), true);
  lock.release();
});

Deno.test("a file: URL becomes its path; parent directories are created", async () => {
  await using dir = await tempDir();
  const url = new URL(`file://${dir.path}/deep/er/a.lock`);
  const lock = new InterProcessLock(url);
  assert.equal(lock.path, `${dir.path}/deep/er/a.lock`);
  assert.equal(await lock.acquire(), true);
  assert.ok(Deno.statSync(lock.path).isFile);
  lock.release();
  // Never deleted.
  assert.ok(Deno.statSync(lock.path).isFile);
});

Deno.test("release of a lock that is not held throws an Error naming the path", async () => {
  await using dir = await tempDir();
  const lock = new InterProcessLock(`${dir.path}/a.lock`);
  assert.throws(() => lock.release(), (e: Error) => {
    assert.equal(e.constructor, Error);
    assert.match(e.message, /not held/);
    assert.ok(e.message.includes(`${dir.path}/a.lock`));
    return true;
  });
  await lock.acquire();
  lock.release();
  assert.throws(() => lock.release(), /not held/);
});

Deno.test("two lock objects on one file in one process exclude each other", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  const a = new InterProcessLock(path);
  const b = new InterProcessLock(path);
  assert.equal(await a.acquire(), true);
  assert.equal(await b.acquire({ blocking: false }), false);
  assert.equal(await b.acquire({ timeout: 50 }), false);
  assert.equal(b.acquired, false);
  a.release();
  assert.equal(await b.acquire({ blocking: false }), true);
  b.release();
});

Deno.test("concurrent acquire() calls on one object take turns (an async mutex)", async () => {
  await using dir = await tempDir();
  const lock = new InterProcessLock(`${dir.path}/a.lock`);
  let inside = 0;
  let maxInside = 0;
  const order: number[] = [];
  await Promise.all([0, 1, 2, 3, 4].map(async (i) => {
    assert.equal(await lock.acquire(), true);
    inside++;
    maxInside = Math.max(maxInside, inside);
    await sleep(5);
    order.push(i);
    inside--;
    lock.release();
  }));
  assert.equal(maxInside, 1);
  assert.equal(order.length, 5);
  assert.equal(lock.acquired, false);
});

Deno.test("a release hands the lock to waiting tasks in arrival order", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  const holder = new InterProcessLock(path);
  await holder.acquire();
  const order: number[] = [];
  // Big delays: only the hand-off (not a timer) can explain a quick turn.
  const waiters = [0, 1, 2, 3].map(async (i) => {
    await sleep(i * 20);
    const lock = new InterProcessLock(path);
    // A timeout makes the call back off (without one it waits in the
    // kernel or for this process's release, and the delay means nothing).
    assert.equal(
      await lock.acquire({ timeout: 120_000, delay: 60_000, maxDelay: 60_000 }),
      true,
    );
    order.push(i);
    await sleep(1);
    lock.release();
  });
  await sleep(120);
  const releasedAt = performance.now();
  holder.release();
  await Promise.all(waiters);
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.ok(performance.now() - releasedAt < 5_000);
});

Deno.test("timeout: resolves false after about the timeout, never sleeping past it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  using _holder = rawHolder(path);
  const sleeps: number[] = [];
  const lock = new InterProcessLock(path, { sleep: recordingSleep(sleeps) });
  const start = performance.now();
  assert.equal(
    await lock.acquire({ delay: 20, maxDelay: 50, timeout: 300 }),
    false,
  );
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 295, `returned after ${elapsed} ms`);
  assert.ok(elapsed < 3_000, `returned after ${elapsed} ms`);
  // fasteners' shape: delay, then delay more per failed try, capped.
  assert.deepEqual(sleeps.slice(0, 4), [20, 40, 50, 50]);
  assert.ok(sleeps.reduce((a, b) => a + b, 0) <= 300 + 1e-6, `slept ${sleeps}`);
  assert.ok(sleeps.at(-1)! <= 50);
  assert.equal(lock.acquired, false);
});

Deno.test("by default the pauses start at 10 ms, grow by 10 ms and stop growing at 100 ms", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  using _holder = rawHolder(path);
  const sleeps: number[] = [];
  const lock = new InterProcessLock(path, { sleep: recordingSleep(sleeps) });
  assert.equal(await lock.acquire({ timeout: 1_000 }), false);
  assert.deepEqual(
    sleeps.slice(0, 12),
    [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 100, 100],
  );
});

Deno.test("when the time is up, one last try takes a lock freed during the last pause", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  using holder = rawHolder(path);
  // No events: only the pause ends the wait.
  const original = Deno.watchFs;
  Deno.watchFs = () => {
    throw new Error("No watching in this test");
  };
  try {
    let pauses = 0;
    const lock = new InterProcessLock(path, {
      // Each pause ends 50 ms late, so this one ends past the deadline.
      sleep: (ms, options) => {
        pauses++;
        return new Promise((resolve) => {
          const id = setTimeout(resolve, ms + 50);
          options?.signal?.addEventListener("abort", () => {
            clearTimeout(id);
            resolve();
          });
        });
      },
    });
    const waiting = lock.acquire({ timeout: 300, delay: 5_000 });
    await sleep(100);
    holder.unlockSync();
    assert.equal(await waiting, true);
    assert.equal(pauses, 1);
    lock.release();
  } finally {
    Deno.watchFs = original;
  }
});

Deno.test("maxDelay below delay means delay; delay 0 never busy-spins", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  using _holder = rawHolder(path);
  const sleeps: number[] = [];
  const recording = recordingSleep(sleeps);
  const a = new InterProcessLock(path, { sleep: recording });
  assert.equal(
    await a.acquire({ delay: 30, maxDelay: 5, timeout: 200 }),
    false,
  );
  assert.deepEqual(sleeps.slice(0, 3), [30, 30, 30]);

  sleeps.length = 0;
  let attempts = 0;
  const b = new InterProcessLock(path, {
    sleep: recording,
    logger: {
      debug: (m: unknown) => String(m).startsWith("Attempt") && attempts++,
    },
  });
  assert.equal(await b.acquire({ delay: 0, maxDelay: 0, timeout: 100 }), false);
  assert.ok(
    sleeps.every((ms) => ms >= 1 || ms === sleeps.at(-1)),
    `slept ${sleeps}`,
  );
  assert.ok(attempts <= 110, `${attempts} attempts in 100 ms`);
});

Deno.test("timeout 0 makes one try; blocking false makes exactly one try", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  const holder = new InterProcessLock(path);
  await holder.acquire();
  for (
    const options of [{ timeout: 0 }, { blocking: false, timeout: 10_000 }]
  ) {
    let attempts = 0;
    const lock = new InterProcessLock(path, {
      logger: {
        debug: (m: unknown) => String(m).startsWith("Attempt") && attempts++,
      },
    });
    const start = performance.now();
    assert.equal(await lock.acquire(options), false);
    assert.equal(attempts, 1);
    assert.ok(performance.now() - start < 1_000);
  }
  holder.release();
});

Deno.test("the logger hears each attempt and each wait", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  await using holder = fixture("hold.ts", ["lock", path, "stdin"]);
  await holder.waitFor("acquired");
  const messages: string[] = [];
  const lock = new InterProcessLock(path, {
    logger: { debug: (...data: unknown[]) => messages.push(data.join(" ")) },
  });
  assert.equal(await lock.acquire({ timeout: 60 }), false);
  assert.ok(
    messages.some((m) => /^Attempt 1 .*busy/.test(m)),
    messages.join("\n"),
  );
  assert.ok(
    messages.some((m) => /^Waiting up to/.test(m)),
    messages.join("\n"),
  );
  assert.ok(messages.some((m) => /^Gave up/.test(m)), messages.join("\n"));
});

Deno.test("an abort signal rejects the wait with its reason and leaves nothing held or open", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  const holder = new InterProcessLock(path);
  await holder.acquire();
  const lock = new InterProcessLock(path);
  const controller = new AbortController();
  const reason = new Error("stop waiting");
  setTimeout(() => controller.abort(reason), 50);
  const start = performance.now();
  await assert.rejects(
    lock.acquire({ signal: controller.signal }),
    (e) => e === reason,
  );
  assert.ok(performance.now() - start < 2_000);
  assert.equal(lock.acquired, false);
  // An aborted signal rejects at once.
  await assert.rejects(
    lock.acquire({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  holder.release();
  // Nothing of the aborted calls holds the file.
  assert.equal(await lock.acquire({ blocking: false }), true);
  lock.release();
});

/** A user's sleep that honours its signal and records what it was asked. */
function userSleep(calls: { ms: number; stopped: boolean }[]) {
  return (ms: number, options?: { signal?: AbortSignal }) =>
    new Promise<void>((resolve, reject) => {
      const call = { ms, stopped: false };
      calls.push(call);
      const id = setTimeout(resolve, ms);
      options?.signal?.addEventListener("abort", () => {
        call.stopped = true;
        clearTimeout(id);
        reject(options.signal!.reason);
      });
    });
}

Deno.test("an abort signal also stops a wait with a user sleep that honours it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  // Held by another process: the waiter backs off through the user's sleep.
  await using holder = fixture("hold.ts", ["lock", path, "stdin"]);
  await holder.waitFor("acquired");
  const calls: { ms: number; stopped: boolean }[] = [];
  const lock = new InterProcessLock(path, { sleep: userSleep(calls) });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  const start = performance.now();
  await assert.rejects(
    lock.acquire({ delay: 10_000, signal: controller.signal }),
    (e: Error) => e.name === "AbortError",
  );
  assert.ok(performance.now() - start < 5_000);
  assert.deepEqual(calls.map((c) => c.ms), [10_000]);
  assert.equal(calls[0].stopped, true);
});

Deno.test("a release wakes a waiter early: the library stops the user's sleep", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  await using holder = fixture("hold.ts", ["lock", path, "stdin"]);
  await holder.waitFor("acquired");
  const calls: { ms: number; stopped: boolean }[] = [];
  const lock = new InterProcessLock(path, { sleep: userSleep(calls) });
  const waiting = lock.acquire({ timeout: 60_000, delay: 30_000 });
  await sleep(300);
  const releasedAt = performance.now();
  await holder.end();
  assert.equal(await waiting, true);
  lock.release();
  assert.ok(performance.now() - releasedAt < 10_000);
  assert.equal(calls[0]?.ms, 30_000);
  assert.equal(calls[0].stopped, true, "the sleep was not stopped");
});

Deno.test("using: the lock is released at the end of the block, on throw too", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  {
    using lock = new InterProcessLock(path);
    await lock.acquire();
  }
  await assert.rejects(async () => {
    using lock = new InterProcessLock(path);
    await lock.acquire();
    throw new Error("boom");
  }, /boom/);
  const probe = new InterProcessLock(path);
  assert.equal(await probe.acquire({ blocking: false }), true);
  probe.release();
});

Deno.test("after dispose: acquire throws and pending acquires reject", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  const holder = new InterProcessLock(path);
  await holder.acquire();
  const lock = new InterProcessLock(path);
  const pending = lock.acquire();
  await sleep(20);
  lock[Symbol.dispose]();
  await assert.rejects(pending, /disposed/);
  await assert.rejects(lock.acquire(), (e: Error) => {
    assert.match(e.message, /disposed/);
    assert.ok(e.message.includes(path));
    return true;
  });
  // Disposing twice is harmless.
  lock[Symbol.dispose]();
  holder.release();
});

Deno.test("disposing a reader-writer lock stops its pending acquires and releases what it holds", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/rw.lock`;
  await using holder = fixture("hold.ts", ["lock", path, "stdin"]);
  await holder.waitFor("acquired");
  const rw = new InterProcessReaderWriterLock(path);
  const pending = [
    rw.acquireReadLock(),
    rw.acquireWriteLock(),
    rw.acquireReadLock({ timeout: 60_000 }),
  ];
  await sleep(200);
  rw[Symbol.dispose]();
  for (const call of pending) await assert.rejects(call, /disposed/);
  await holder.end();
  // Nothing of the disposed calls holds the file.
  const probe = new InterProcessLock(path);
  assert.equal(await probe.acquire({ timeout: 5_000 }), true);
  probe.release();
  // A held read lock is released by disposal.
  const held = new InterProcessReaderWriterLock(path);
  assert.equal(await held.acquireReadLock(), true);
  held[Symbol.dispose]();
  assert.equal(await probe.acquire({ blocking: false }), true);
  probe.release();
});

Deno.test("a logger that throws breaks nothing: the lock is acquired and released", async () => {
  await using dir = await tempDir();
  const lock = new InterProcessLock(`${dir.path}/a.lock`, {
    logger: {
      debug() {
        throw new Error("broken logger");
      },
    },
  });
  assert.equal(await lock.acquire(), true);
  assert.equal(lock.acquired, true);
  lock.release();
  const other = new InterProcessLock(`${dir.path}/a.lock`);
  assert.equal(await other.acquire({ blocking: false }), true);
  other.release();
});

Deno.test("a relative path, an absolute path and a file: URL with spaces name the same lock", async () => {
  await using dir = await tempDir();
  const cwd = Deno.cwd();
  Deno.mkdirSync(`${dir.path}/with space`);
  Deno.chdir(`${dir.path}/with space`);
  try {
    const relative = new InterProcessLock("./job.lock");
    const absolute = new InterProcessLock(`${dir.path}/with space/job.lock`);
    const url = new InterProcessLock(
      new URL(`file://${dir.path}/with%20space/job.lock`),
    );
    assert.equal(url.path, `${dir.path}/with space/job.lock`);
    assert.equal(await relative.acquire(), true);
    assert.equal(await absolute.acquire({ blocking: false }), false);
    // The waiting call is handed the lock by the release, in this process.
    const waiting = url.acquire({
      timeout: 120_000,
      delay: 60_000,
      maxDelay: 60_000,
    });
    await sleep(20);
    const releasedAt = performance.now();
    relative.release();
    assert.equal(await waiting, true);
    assert.ok(performance.now() - releasedAt < 5_000);
    url.release();
  } finally {
    Deno.chdir(cwd);
  }
});

Deno.test("a sleep function that fails fails the acquire, and leaves nothing held or open", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  // Held by another process: the waiter backs off through its sleep.
  const holder = fixture("hold.ts", ["lock", path, "stdin"]);
  await holder.waitFor("acquired");
  const lock = new InterProcessLock(path, {
    sleep: () => Promise.reject(new Error("sleep broke")),
  });
  await assert.rejects(lock.acquire({ timeout: 10_000 }), /sleep broke/);
  assert.equal(lock.acquired, false);
  await holder.end();
  const other = new InterProcessLock(path);
  assert.equal(await other.acquire({ blocking: false }), true);
  other.release();
});
