// The PostgreSQL semaphore against a real server (see _pg_helpers.ts).
import assert from "node:assert/strict";
import {
  LockTimeoutError,
  PostgresLock,
  PostgresSemaphore,
  postgresSemaphoreLocked,
} from "../postgres/mod.ts";
import { sleep, tempDir } from "./_helpers.ts";
import { crowd } from "./_crowd.ts";
import { locksOn, pgTest, unique, url } from "./_pg_helpers.ts";

pgTest(
  "semaphore: 4 processes, 2 slots, one SIGKILLed holding and one waiting: never more than 2 inside, every survivor served, no slot left taken",
  async () => {
    await using dir = await tempDir();
    const name = unique("room");
    await crowd(dir.path, name, 2, 4, 2, url);
    for (const lock of [name, `${name}.0`, `${name}.1`]) {
      assert.deepEqual(await locksOn(lock), { granted: 0, waiting: 0 });
    }
  },
);

pgTest(
  "semaphore: slots in pg_locks, a waiter served by a release, timeouts and aborts leave nothing taken",
  async () => {
    const name = unique("sem");
    await using a = new PostgresSemaphore(name, { url, slots: 2 });
    await using b = new PostgresSemaphore(name, { url, slots: 2 });
    await using c = new PostgresSemaphore(name, { url, slots: 2 });
    assert.equal(await a.acquire(), true);
    assert.equal(await b.acquire(), true);
    assert.deepEqual([a.slot, b.slot], [0, 1]);
    assert.deepEqual(await locksOn(`${name}.0`), { granted: 1, waiting: 0 });
    assert.equal(a.isValid(), true);
    assert.equal(a.signal.aborted, false);
    assert.equal(await c.acquire({ timeout: 0 }), false);
    assert.equal(await c.acquire({ blocking: false }), false);
    assert.equal(await c.acquire({ timeout: 200 }), false);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop")), 100);
    await assert.rejects(c.acquire({ signal: controller.signal }), /stop/);
    await sleep(100);
    assert.deepEqual(await locksOn(name), { granted: 0, waiting: 0 });
    const waiting = c.acquire({ timeout: 10_000 });
    await sleep(200);
    await b.release();
    assert.equal(await waiting, true);
    assert.equal(c.slot, 1);
    await a.release();
    await c.release();
    for (const lock of [name, `${name}.0`, `${name}.1`]) {
      assert.deepEqual(await locksOn(lock), { granted: 0, waiting: 0 });
    }
  },
);

pgTest(
  "semaphore: bad slots; postgresSemaphoreLocked holds at most N",
  async () => {
    for (const slots of [0, 1.5, NaN, -1]) {
      assert.throws(
        () => new PostgresSemaphore("x", { url, slots }),
        RangeError,
      );
    }
    assert.throws(
      // @ts-expect-error: a number
      () => new PostgresSemaphore("x", { url, slots: "3" }),
      TypeError,
    );
    const name = unique("sem-deco");
    let inside = 0;
    let peak = 0;
    const work = postgresSemaphoreLocked(name, { url, slots: 2 })(async () => {
      peak = Math.max(peak, ++inside);
      await sleep(50);
      inside--;
    });
    await Promise.all([1, 2, 3, 4, 5].map(() => work()));
    assert.equal(peak, 2);
    await using holder = new PostgresSemaphore(name, { url, slots: 1 });
    assert.equal(await holder.acquire(), true);
    const quick = postgresSemaphoreLocked(name, {
      url,
      slots: 1,
      timeout: 100,
    })(
      () => 1,
    );
    await assert.rejects(quick(), LockTimeoutError);
  },
);

pgTest(
  "semaphore: a try takes a free slot while another client holds the gate",
  async () => {
    const name = unique("sem-try");
    await using gate = new PostgresLock(name, { url });
    assert.equal(await gate.acquire(), true);
    await using a = new PostgresSemaphore(name, { url, slots: 1 });
    await using b = new PostgresSemaphore(name, { url, slots: 1 });
    assert.equal(await a.acquire({ timeout: 0 }), true);
    assert.equal(await b.acquire({ blocking: false }), false);
    await a.release();
    await gate.release();
  },
);
