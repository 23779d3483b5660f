// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * A job that runs on one host at a time, through PostgreSQL, and fences its
 * writes: each run records the token it held the lock with, and a store
 * that has seen a larger token refuses the write (a run that was paused or
 * cut off while holding the lock cannot overwrite a later run's result).
 *
 *   deno run --allow-net --allow-env --allow-read --allow-write \
 *     examples/fenced_job.ts <postgres-url> <storeFile> [workMs]
 *
 * @module
 */
import { PostgresLock } from "../postgres/mod.ts";

const [url, store, workArg] = Deno.args;
const workMs = Number(workArg ?? 500);

/** The protected store: keeps a write only if its token is the largest. */
function fencedWrite(token: bigint, value: string): boolean {
  let seen = -1n;
  try {
    seen = BigInt(JSON.parse(Deno.readTextFileSync(store)).token);
  } catch {
    // Empty store.
  }
  if (token <= seen) return false;
  Deno.writeTextFileSync(
    store,
    JSON.stringify({ token: String(token), value }),
  );
  return true;
}

await using lock = new PostgresLock("fenced-job", { url });
if (!(await lock.acquire({ blocking: false }))) {
  console.log("skipped: running on another host");
  Deno.exit(0);
}
const token = lock.token!;
console.log(`running with token ${token}`);
await new Promise((resolve) => setTimeout(resolve, workMs)); // the real work
if (!lock.isValid()) {
  console.log("lost the lock: not writing");
  Deno.exit(1);
}
console.log(
  fencedWrite(token, `result of pid ${Deno.pid}`)
    ? "written"
    : "refused: a later holder already wrote",
);
await lock.release();
