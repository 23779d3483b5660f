// The crowd test of the semaphores: room workers (fixtures/sem_worker.ts)
// in real processes, some SIGKILLed along the way.
import assert from "node:assert/strict";
import { InterProcessLock } from "../mod.ts";
import { fixture, sleep, TEST_PERMISSIONS } from "./_helpers.ts";

/**
 * Runs `processes` room workers on `gate` and SIGKILLs `kills` of them
 * along the way, while they hold a slot or wait; checks that never more
 * than `slots` were inside and that every other worker got its turns.
 */
export async function crowd(
  dir: string,
  gate: string,
  slots: number,
  processes: number,
  kills: number,
  url?: string,
): Promise<void> {
  const insidePath = `${dir}/inside`;
  Deno.writeTextFileSync(
    insidePath,
    JSON.stringify({ pids: [], peak: 0, over: 0 }),
  );
  const workers = Array.from(
    { length: processes },
    () =>
      fixture("sem_worker.ts", [
        gate,
        dir,
        String(slots),
        "25",
        ...url ? [url] : [],
      ], {
        permissions: [...TEST_PERMISSIONS],
      }),
  );
  const killed = new Set<number>();
  using count = new InterProcessLock(`${dir}/inside.lock`);
  for (let tries = 0; killed.size < kills && tries < 50; tries++) {
    await sleep(150);
    // Under the count's lock, so that the record stays right: a holder
    // (every other kill) or a waiter.
    await count.acquire();
    const inside = JSON.parse(Deno.readTextFileSync(insidePath));
    const holding = killed.size % 2 === 0;
    const victim = workers.find((w) =>
      !killed.has(w.process.pid) &&
      inside.pids.includes(w.process.pid) === holding
    );
    if (victim !== undefined) {
      victim.process.kill("SIGKILL");
      await victim.process.status;
      killed.add(victim.process.pid);
      inside.pids = inside.pids.filter((p: number) => p !== victim.process.pid);
      Deno.writeTextFileSync(insidePath, JSON.stringify(inside));
    }
    count.release();
  }
  for (const worker of workers) {
    const { status, rest, stderr } = await worker.end();
    if (killed.has(worker.process.pid)) continue;
    assert.equal(status.code, 0, stderr);
    assert.deepEqual(rest, ["done"]);
  }
  const inside = JSON.parse(Deno.readTextFileSync(insidePath));
  assert.equal(
    inside.over,
    0,
    `more than ${slots} inside ${inside.over} times`,
  );
  assert.equal(inside.peak, slots, "the room was never full");
  assert.deepEqual(inside.pids, []);
  assert.equal(killed.size, kills, "not every kill happened");
}
