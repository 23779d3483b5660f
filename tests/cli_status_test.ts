// The command line's --status on a free lock, an exclusively held one, a
// shared-held one: its text, its JSON and its exit codes (0 free, 1 held,
// 64 misuse); tests/pg_web_locks_test.ts tries a PostgreSQL lock.
import assert from "node:assert/strict";
import { InterProcessLock } from "../mod.ts";
import { flockHolder, run, tempDir } from "./_helpers.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const HAS_FLOCK = await run("flock", ["--version"]).then(
  (r) => r.code === 0,
  () => false,
);

function status(args: string[], all = false) {
  const perms = all
    ? ["--allow-all"]
    : ["--allow-read", "--allow-write", "--allow-sys=hostname"];
  return run(Deno.execPath(), [
    "run",
    "--quiet",
    ...perms,
    CLI,
    "--status",
    ...args,
  ]);
}

Deno.test("--status: a free lock (or no file) says free and exits 0", async () => {
  await using dir = await tempDir();
  const r = await status([`${dir.path}/none.lock`]);
  assert.deepEqual([r.code, r.stdout], [0, `${dir.path}/none.lock: free\n`]);
  const j = await status(["--json", `${dir.path}/none.lock`]);
  assert.deepEqual(JSON.parse(j.stdout), {
    lock: `${dir.path}/none.lock`,
    held: false,
    holders: [],
    waiting: 0,
  });
});

Deno.test("--status: an exclusive holder is named with its pid, host and start; exit 1", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/x.lock`;
  using lock = new InterProcessLock(path);
  await lock.acquire();
  const r = await status([path]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    new RegExp(`held exclusively by pid ${Deno.pid}.* since \\d{4}-`),
  );
  const j = JSON.parse((await status(["--json", path])).stdout);
  assert.equal(j.held, "exclusive");
  assert.equal(j.holders[0].pid, Deno.pid);
  assert.equal(j.holders[0].mode, "exclusive");
});

Deno.test({
  name:
    "--status: every shared holder is listed (with the right to read /proc/locks)",
  ignore: !HAS_FLOCK || Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/s.lock`;
    Deno.writeTextFileSync(path, "");
    const a = await flockHolder(path, "-s");
    const b = await flockHolder(path, "-s");
    try {
      const j = JSON.parse((await status(["--json", path], true)).stdout);
      assert.equal(j.held, "shared");
      assert.equal(j.holders.length, 2);
      assert.ok(j.holders.every((h: { mode: string }) => h.mode === "shared"));
      const r = await status([path]); // no right to read /proc: it says so
      assert.equal(r.code, 1);
      assert.match(r.stdout, /held shared \(readers record nothing/);
    } finally {
      await a.end();
      await b.end();
    }
  },
});

Deno.test("--status takes no command, no --slots; --json needs --status", async () => {
  assert.equal((await status(["x.lock", "echo"])).code, 64);
  assert.equal((await status(["--slots", "2", "x.lock"])).code, 64);
  const r = await run(Deno.execPath(), [
    "run",
    "--quiet",
    "--allow-read",
    CLI,
    "--json",
    "x.lock",
    "true",
  ]);
  assert.equal(r.code, 64);
});
