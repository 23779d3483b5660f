// The Web Locks managers across real processes, on lock files and on a
// real PostgreSQL server: counts that lose nothing, shared holders together
// while an exclusive request waits, ifAvailable, aborts that leave nothing,
// query() of every process, a killed holder, and a steal across processes.
import assert from "node:assert/strict";
import { fixture, tempDir } from "./_helpers.ts";
import { PERMS, pgTest, unique, url } from "./_pg_helpers.ts";

type Where = { backend: "file" | "pg"; where: string };
interface Info {
  name: string;
  mode: string;
  clientId: string;
}

const child = (w: Where, ...args: string[]) =>
  fixture("web_locks.ts", [w.backend, w.where, ...args], {
    permissions: [...PERMS, "--allow-sys=hostname"],
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

/** Runs `body` on lock files and on PostgreSQL. */
function processTest(
  title: string,
  body: (w: Where, name: string) => Promise<void>,
) {
  Deno.test(`file: ${title}`, async () => {
    await using dir = await tempDir();
    await body({ backend: "file", where: dir.path }, "job");
  });
  pgTest(`web locks: ${title}`, async () => {
    await body({ backend: "pg", where: url }, unique("job"));
  });
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
    assert.equal(await t.waitFor(""), "null");
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

Deno.test("file: 8 processes x 200 request() increments of one counter lose nothing", async () => {
  await using dir = await tempDir();
  const counter = `${dir.path}/counter`;
  Deno.writeTextFileSync(counter, "0");
  const w: Where = { backend: "file", where: dir.path };
  const workers = Array.from(
    { length: 8 },
    () => child(w, "count", "c", counter, "200"),
  );
  for (const worker of workers) await worker.waitFor("counted", 60_000);
  for (const worker of workers) await worker.end();
  assert.equal(Deno.readTextFileSync(counter), "1600");
});

Deno.test("file: steal against a lock another process holds rejects with NotSupportedError", async () => {
  await using dir = await tempDir();
  const w: Where = { backend: "file", where: dir.path };
  await using a = child(w, "hold", "s", "exclusive");
  await a.waitFor("held");
  await using s = child(w, "steal", "s");
  assert.equal(await s.waitFor("rejected"), "rejected NotSupportedError");
});

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
