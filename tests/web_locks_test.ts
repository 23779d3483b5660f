// The Web Locks API on lock files: the behaviours of _web_locks_cases.ts in
// one process (beside Deno's own navigator.locks, for reference) and of
// _web_locks_process_cases.ts across real processes, and a steal refused
// across processes.
import assert from "node:assert/strict";
import { configureLockTelemetry, FileLockManager } from "../mod.ts";
import { tempDir } from "./_helpers.ts";
import { CASES, type Manager } from "./_web_locks_cases.ts";
import {
  child,
  PROCESS_CASES,
  type Where,
} from "./_web_locks_process_cases.ts";

let counter = 0;
const unique = (what: string) => `${what}-${Deno.pid}-${++counter}`;
/** Deno 2.9 has navigator.locks; Deno 2.7 has not. */
const native = (navigator as unknown as { locks?: Manager }).locks;

for (const { title, body, native: compare } of CASES) {
  Deno.test(`file: ${title}`, async () => {
    await using dir = await tempDir();
    await body(new FileLockManager({ dir: dir.path }), (w) => w);
  });
  Deno.test({
    name: `navigator.locks: ${title}`,
    ignore: !compare || native === undefined,
    fn: () => body(native!, unique),
  });
}

for (const { title, body } of PROCESS_CASES) {
  Deno.test(`file: ${title}`, async () => {
    await using dir = await tempDir();
    await body({ backend: "file", where: dir.path }, "job");
  });
}

Deno.test("file: steal against a lock another process holds rejects with NotSupportedError", async () => {
  await using dir = await tempDir();
  const w: Where = { backend: "file", where: dir.path };
  await using a = child(w, "hold", "s", "exclusive");
  await a.waitFor("held");
  await using s = child(w, "steal", "s");
  assert.equal(await s.waitFor("rejected"), "rejected NotSupportedError");
});

Deno.test("bad FileLockManager options and telemetry options throw TypeError, naming the option", async () => {
  await using dir = await tempDir();
  // @ts-expect-error: dir must be a string or URL
  assert.throws(() => new FileLockManager({ dir: 5 }), /"dir"/);
  const misspelt = { dri: dir.path } as unknown as { dir: string };
  assert.throws(() => new FileLockManager(misspelt), /did you mean "dir"/);
  // @ts-expect-error: not a boolean
  assert.throws(() => configureLockTelemetry({ nameInMetrics: 1 }), TypeError);
  const a = new FileLockManager({ dir: dir.path });
  const b = new FileLockManager({ dir: dir.path });
  assert.notEqual(a.clientId, b.clientId);
  assert.match(a.clientId, new RegExp(`^${Deno.pid}(@[^/]*)?/\\d+$`));
});
