// readLockOwner: what it reports for a live holder, for a dead one (with and
// without a way to tell that it is dead), for a holder without a host name,
// and its errors.
import assert from "node:assert/strict";
import { InterProcessLock, readLockOwner } from "../mod.ts";
import { fixture, FIXTURES, flockHolder, run, tempDir } from "./_helpers.ts";

const HAS_FLOCK = await run("flock", ["--version"]).then(
  (r) => r.code === 0,
  () => false,
);
const OWNER = new URL("owner.ts", FIXTURES).pathname;

/** readLockOwner(path) in a child with the given permissions. */
async function ownerSeenWith(permissions: string[], path: string) {
  const { stdout, stderr } = await run(Deno.execPath(), [
    "run",
    "--quiet",
    ...permissions,
    OWNER,
    path,
  ]);
  assert.equal(stderr, "");
  return stdout.trim();
}

/** A record of a holder that was SIGKILLed, while flock(1) holds the lock. */
async function deadHolderRecord(path: string): Promise<number> {
  await using child = fixture("hold.ts", ["lock", path, "stdin"]);
  await child.waitFor("acquired");
  child.process.kill("SIGKILL");
  await child.process.status;
  return child.process.pid;
}

Deno.test({
  name:
    "a dead holder's record: dropped with --allow-run, reported when nothing can tell (read access to /proc is not enough)",
  ignore: !HAS_FLOCK,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/dead.lock`;
    const pid = await deadHolderRecord(path);
    const holder = await flockHolder(path);
    try {
      assert.equal(
        await ownerSeenWith(
          ["--allow-read", "--allow-run", "--allow-sys=hostname"],
          path,
        ),
        "null",
      );
      // Without --allow-run the record is all there is.
      const seen = await ownerSeenWith(
        ["--allow-read", "--allow-sys=hostname"],
        path,
      );
      assert.equal(JSON.parse(seen)?.pid, pid, seen);
    } finally {
      assert.equal(await holder.end(), 0);
    }
  },
});

Deno.test("a holder without --allow-sys=hostname records an empty host name", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/nameless.lock`;
  await using child = fixture("hold.ts", ["lock", path, "stdin"], {
    permissions: ["--allow-read", "--allow-write"],
  });
  await child.waitFor("acquired");
  const owner = readLockOwner(path);
  assert.equal(owner?.pid, child.process.pid);
  assert.equal(owner?.hostname, "");
  assert.ok(owner!.since.getTime() > Date.now() - 60_000);
});

Deno.test("readLockOwner errors name the path: a directory, no read permission", async () => {
  await using dir = await tempDir();
  assert.throws(
    () => readLockOwner(dir.path),
    (error: Error) =>
      error instanceof Deno.errors.IsADirectory &&
      error.message.includes(dir.path),
  );
  const path = `${dir.path}/job.lock`;
  using lock = new InterProcessLock(path);
  await lock.acquire();
  const seen = await ownerSeenWith(["--allow-read=/nowhere"], path);
  assert.match(seen, /^NotCapable: .*job\.lock.*--allow-read/);
  // A missing file has no owner.
  assert.equal(readLockOwner(`${dir.path}/missing.lock`), null);
});
