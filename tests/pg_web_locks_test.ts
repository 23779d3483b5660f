// The Web Locks API on PostgreSQL (a real server): the behaviours of
// _web_locks_cases.ts in one process and of _web_locks_process_cases.ts
// across processes, a steal across processes, and the command line's
// --status on a PostgreSQL lock.
import assert from "node:assert/strict";
import { FileLockManager } from "../mod.ts";
import { PostgresLock, PostgresLockManager } from "../postgres/mod.ts";
import { run } from "./_helpers.ts";
import { pgTest, unique, url } from "./_pg_helpers.ts";
import { CASES } from "./_web_locks_cases.ts";
import {
  child,
  PROCESS_CASES,
  type Where,
} from "./_web_locks_process_cases.ts";

for (const { title, body } of CASES) {
  pgTest(`web locks: ${title}`, async () => {
    await body(new PostgresLockManager({ url }), unique);
  });
}

for (const { title, body } of PROCESS_CASES) {
  pgTest(`web locks: ${title}`, async () => {
    await body({ backend: "pg", where: url }, unique("job"));
  });
}

pgTest(
  "web locks: steal from another process ends its session: its request rejects with an AbortError",
  async () => {
    const name = unique("steal");
    const w: Where = { backend: "pg", where: url };
    await using a = child(w, "hold", name, "exclusive");
    await a.waitFor("held");
    await using s = child(w, "steal", name);
    assert.equal(await s.waitFor("stole"), "stole");
    assert.equal(await a.waitFor("rejected"), "rejected AbortError");
  },
);

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const status = (args: string[]) =>
  run(Deno.execPath(), [
    "run",
    "--quiet",
    "--allow-all",
    CLI,
    "--status",
    ...args,
  ]);

pgTest(
  "--status --postgres: the holder, how many wait, exit 1; free: exit 0",
  async () => {
    const name = unique("status");
    const free = await status(["--postgres", url, name]);
    assert.deepEqual([free.code, free.stdout], [0, `${name}: free\n`]);
    await using holder = new PostgresLock(name, { url });
    await holder.acquire();
    await using waiter = new PostgresLock(name, { url });
    const waiting = waiter.acquire({ timeout: 20_000 });
    let j = { waiting: 0 } as {
      held: string;
      waiting: number;
      holders: { pid: number }[];
    };
    for (let i = 0; i < 50 && j.waiting === 0; i++) {
      const r = await status(["--json", "--postgres", url, name]);
      assert.equal(r.code, 1);
      j = JSON.parse(r.stdout);
    }
    assert.equal(j.held, "exclusive");
    assert.equal(j.waiting, 1);
    assert.equal(j.holders[0].pid, Deno.pid);
    await holder.release();
    assert.equal(await waiting, true);
    await waiter.release();
  },
);

pgTest(
  "web locks: a file manager and a PostgreSQL manager of one process never share a client id",
  () => {
    const dir = Deno.makeTempDirSync();
    try {
      const ids = [
        new FileLockManager({ dir }).clientId,
        new PostgresLockManager({ url }).clientId,
        new FileLockManager({ dir }).clientId,
      ];
      // One count for both backends: consecutive numbers.
      const numbers = ids.map((id) => Number(id.split("/").at(-1)));
      assert.deepEqual(numbers, [numbers[0], numbers[0] + 1, numbers[0] + 2]);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);
