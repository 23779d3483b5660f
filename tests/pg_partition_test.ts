// A real network partition, where the test runs as root: the whole case
// runs in a private network namespace (`unshare --net`), with the holder in a
// second one joined by a veth pair, and every packet between them dropped
// silently with tc (see fixtures/partition.ts). The host's network is never
// touched. Elsewhere the case is skipped with the reason.
import assert from "node:assert/strict";
import { fixture } from "./_helpers.ts";

const LEASE = 3_000;

function missing(): string | undefined {
  if (Deno.uid() !== 0) return "not root (unshare --net needs it)";
  for (const tool of ["unshare", "nsenter", "ip", "tc"]) {
    const found = new Deno.Command("sh", {
      args: ["-c", `command -v ${tool}`],
      stdout: "null",
    }).outputSync();
    if (!found.success) return `no ${tool}`;
  }
  const pg = new Deno.Command("sh", {
    args: ["-c", "ls /usr/lib/postgresql/*/bin/initdb || command -v initdb"],
    stdout: "null",
    stderr: "null",
  }).outputSync();
  return pg.success ? undefined : "no PostgreSQL binaries (initdb)";
}

const reason = missing();
if (reason !== undefined) console.log(`Partition test skipped: ${reason}`);

Deno.test({
  name:
    "postgres: a silent partition: the holder learns of the loss before anyone else acquires; release and connect stay bounded",
  ignore: reason !== undefined,
  fn: async () => {
    await using run = fixture("partition.ts", [], {
      permissions: ["-A"],
      via: ["unshare", "--net", "--"],
      env: { DATABASE_URL: "" },
    });
    const { status, rest, stderr } = await run.end();
    assert.equal(status.code, 0, stderr);
    const result = JSON.parse(rest.at(-1)!);
    // The holder knew first, by about a tenth of the lease.
    assert.ok(result.marginMs > 0, `margin ${result.marginMs} ms`);
    assert.ok(result.freeAfterMs < LEASE + 2_000, JSON.stringify(result));
    assert.match(
      result.lostReason,
      /Lost the PostgreSQL lock "partition".*lease/,
    );
    assert.equal(result.valid, false);
    // The unlock could not reach the server: the release settles anyway.
    assert.ok(result.releaseMs < LEASE + 1_000, JSON.stringify(result));
    // A connect whose SYNs are dropped: the timeout, and the abort at 500 ms.
    assert.ok(
      result.connectMs >= 900 && result.connectMs < 2_000,
      JSON.stringify(result),
    );
    assert.match(result.connectError, /PostgresConnectionError.*10\.9\.0\.1/);
    assert.ok(result.abortMs < 900, JSON.stringify(result));
    assert.match(result.abortError, /stop/);
  },
});
