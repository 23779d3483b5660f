// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * Code written for `navigator.locks`, scaled out to every process of the
 * host by swapping one object: each run appends a line to a journal file,
 * one process at a time (so lines never interleave), and prints what the
 * other processes hold or wait for.
 *
 *   deno run --allow-read --allow-write examples/web_locks.ts <dir> [label]
 *
 * @module
 */
import { FileLockManager } from "../mod.ts";

const [dir = "/tmp/example-web-locks", label = `pid ${Deno.pid}`] = Deno.args;
// Was: const locks = navigator.locks; (one process only)
const locks = new FileLockManager({ dir: `${dir}/locks` });

const lines = await locks.request("journal", async (lock) => {
  const path = `${dir}/journal.txt`;
  const before = await Deno.readTextFile(path).catch(() => "");
  const { held, pending } = await locks.query();
  const line =
    `${label}: ${lock?.mode} lock, ${held.length} held and ${pending.length} waiting`;
  // Read, then write the whole file: safe only because of the lock.
  await Deno.writeTextFile(path, before + line + "\n");
  return before === "" ? 1 : before.trimEnd().split("\n").length + 1;
});
console.log(`wrote line ${lines} of the journal`);
