// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * A cron-style job that refuses to run twice: if another copy holds the lock,
 * it says who and exits at once, successfully, so that cron sends no mail.
 *
 *   deno run --allow-read --allow-write examples/cron_job.ts [lockfile] [workMs]
 *
 * @module
 */
import { InterProcessLock, readLockOwner } from "../mod.ts";

const lockfile = Deno.args[0] ?? "/tmp/nightly-report.lock";
const workMs = Number(Deno.args[1] ?? 1000);

using lock = new InterProcessLock(lockfile);
if (!(await lock.acquire({ blocking: false }))) {
  const owner = readLockOwner(lockfile);
  console.log(
    owner
      ? `skipped: already running as pid ${owner.pid} since ${owner.since.toISOString()}`
      : "skipped: already running",
  );
  Deno.exit(0);
}
console.log(`running as pid ${Deno.pid}`);
await new Promise((resolve) => setTimeout(resolve, workMs)); // the real work
console.log("finished");
