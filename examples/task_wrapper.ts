// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * A `deno task` wrapper: run a command only when no other task is using the
 * same resource, waiting up to a limit and saying who is in the way.
 *
 * In deno.json:
 *
 * ```json
 * { "tasks": { "migrate": "deno run -A examples/task_wrapper.ts .locks/db.lock -- deno run -A migrate.ts" } }
 * ```
 *
 * @module
 */
import { InterProcessLock, readLockOwner } from "../mod.ts";

const separator = Deno.args.indexOf("--");
if (separator !== 1 || Deno.args.length < 3) {
  console.error("usage: task_wrapper.ts <lockfile> -- <command> [args...]");
  Deno.exit(64);
}
const lockfile = Deno.args[0];
const [command, ...args] = Deno.args.slice(2);

using lock = new InterProcessLock(lockfile);
if (!(await lock.acquire({ blocking: false }))) {
  const owner = readLockOwner(lockfile);
  console.error(
    `waiting for ${lockfile}${owner ? ` (held by pid ${owner.pid})` : ""}...`,
  );
  if (!(await lock.acquire({ timeout: 60_000 }))) {
    console.error(`gave up on ${lockfile} after 60 s`);
    Deno.exit(75);
  }
}
const { code } = await new Deno.Command(command, { args }).spawn().status;
lock.release();
Deno.exit(code);
