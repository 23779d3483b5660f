// The Web Locks managers across real processes, one body per behaviour run
// by web_locks_test.ts on lock files and by pg_web_locks_test.ts on a real
// PostgreSQL server: shared holders together while an exclusive request
// waits, ifAvailable, aborts that leave nothing, query() of every process,
// a killed holder, and 8 processes that increment one counter.
import assert from "node:assert/strict";
import { fixture, tempDir } from "./_helpers.ts";

/** Where a test's managers keep their locks. */
export type Where = { backend: "file" | "pg"; where: string };
interface Info {
  name: string;
  mode: string;
  clientId: string;
}

const PERMS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys=hostname",
];

/** A child process doing one action of a manager (fixtures/web_locks.ts). */
export const child = (w: Where, ...args: string[]) =>
  fixture("web_locks.ts", [w.backend, w.where, ...args], {
    permissions: PERMS,
  });

/** The query() of another process, this test's name only. */
async function queryElsewhere(w: Where, name: string) {
  await using q = child(w, "query");
  const { held, pending } = JSON.parse(await q.waitFor("{")) as {
    held: Info[];
    pending: Info[];
  };
  const mine = (i: Info) => i.name === name;
  return { held: held.filter(mine), pending: pending.filter(mine) };
}

/** One behaviour across processes. */
export interface ProcessCase {
  title: string;
  body: (w: Where, name: string) => Promise<void>;
}

/** Every behaviour across processes, in order. */
export const PROCESS_CASES: ProcessCase[] = [];

function processTest(title: string, body: ProcessCase["body"]) {
  PROCESS_CASES.push({ title, body });
}

processTest(
  "shared holders in two processes at once while an exclusive one waits, and query() in a third lists them all",
  async (w, name) => {
    await using a = child(w, "hold", name, "shared");
    await a.waitFor("held");
    await using b = child(w, "hold", name, "shared");
    await b.waitFor("held");
    await using x = child(w, "wait", name, "exclusive", "20000");
    await x.waitFor("waiting");
    let seen = await queryElsewhere(w, name);
    for (let i = 0; i < 50 && seen.pending.length === 0; i++) {
      seen = await queryElsewhere(w, name); // the request is made at once, written soon after
    }
    assert.deepEqual(seen.held.map((i) => i.mode), ["shared", "shared"]);
    assert.deepEqual(seen.pending.map((i) => i.mode), ["exclusive"]);
    const ids = new Set([...seen.held, ...seen.pending].map((i) => i.clientId));
    assert.equal(ids.size, 3);
    await a.end();
    await b.end();
    await x.waitFor("held");
  },
);

processTest(
  "ifAvailable in a second process gets null while the first holds",
  async (w, name) => {
    await using a = child(w, "hold", name, "exclusive");
    await a.waitFor("held");
    await using t = child(w, "try", name, "exclusive");
    assert.equal(await t.waitFor("", 5_000), "null");
    await a.end();
    await using t2 = child(w, "try", name, "exclusive");
    assert.equal(await t2.waitFor(""), "granted");
  },
);

processTest(
  "a pending request aborted by its signal leaves nothing behind",
  async (w, name) => {
    await using a = child(w, "hold", name, "exclusive");
    await a.waitFor("held");
    await using x = child(w, "wait", name, "exclusive", "500");
    assert.equal(await x.waitFor("aborted"), "aborted");
    await x.end();
    // On PostgreSQL the server ends the closed session a moment later.
    let seen = await queryElsewhere(w, name);
    for (let i = 0; i < 20 && seen.pending.length > 0; i++) {
      seen = await queryElsewhere(w, name);
    }
    assert.equal(seen.pending.length, 0);
    assert.equal(seen.held.length, 1);
    if (w.backend === "file") {
      const files = [...Deno.readDirSync(`${w.where}/.clients`)];
      assert.equal(files.length, 1, JSON.stringify(files)); // the holder's
    }
  },
);

processTest(
  "a holder killed with SIGKILL frees the lock and leaves nothing in query()",
  async (w, name) => {
    await using a = child(w, "hold", name, "exclusive");
    await a.waitFor("held");
    await using x = child(w, "wait", name, "exclusive", "20000");
    await x.waitFor("waiting");
    a.process.kill("SIGKILL");
    await x.waitFor("held");
    await x.end();
    const seen = await queryElsewhere(w, name);
    assert.deepEqual([seen.held, seen.pending], [[], []]);
  },
);

processTest(
  "8 processes x 200 request() increments of one counter lose nothing",
  async (w, name) => {
    await using dir = await tempDir();
    const counter = `${dir.path}/counter`;
    Deno.writeTextFileSync(counter, "0");
    const workers = Array.from(
      { length: 8 },
      () => child(w, "count", name, counter, "200"),
    );
    for (const worker of workers) await worker.waitFor("counted", 60_000);
    for (const worker of workers) await worker.end();
    assert.equal(Deno.readTextFileSync(counter), "1600");
  },
);
