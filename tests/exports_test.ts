// The package's entry points: deno.json's exports and mod.ts agree, and
// every entry point loads.
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root)));

Deno.test("deno.json names the package, a version, a license and its entry points", () => {
  assert.equal(config.name, "@locks/process-lock");
  assert.match(config.version, /^\d+\.\d+\.\d+$/);
  assert.equal(config.license, "MIT");
  assert.deepEqual(Object.keys(config.exports).sort(), [
    ".",
    "./cli",
    "./decorators",
    "./lock",
    "./locks",
    "./owner",
    "./postgres",
    "./rwlock",
    "./semaphore",
    "./telemetry",
  ]);
});

Deno.test("mod.ts re-exports exactly the library entry points of deno.json", async () => {
  const modText = Deno.readTextFileSync(new URL("mod.ts", root));
  const reexported = [...modText.matchAll(/^export \* from "\.\/(.+)";$/gm)]
    .map((m) => `./${m[1]}`).sort();
  const library = Object.entries(config.exports as Record<string, string>)
    // The command line and the PostgreSQL locks (an npm dependency) are
    // entry points of their own.
    .filter(([name]) => ![".", "./cli", "./postgres"].includes(name))
    .map(([, file]) => file)
    .sort();
  assert.deepEqual(reexported, library);
  // And every symbol of those modules is reachable from ".".
  const mod = await import(new URL(config.exports["."], root).href);
  for (const file of library) {
    const module = await import(new URL(file, root).href);
    for (const name of Object.keys(module)) {
      assert.ok(name in mod, `${name} of ${file} is not exported by mod.ts`);
    }
  }
});

Deno.test("every entry point loads and exports something, also without deno.json", async () => {
  for (const file of Object.values(config.exports as Record<string, string>)) {
    const module = await import(new URL(file, root).href);
    assert.ok(Object.keys(module).length > 0, file);
  }
});

Deno.test("the PostgreSQL connection pins the same npm package as deno.json", () => {
  const text = Deno.readTextFileSync(new URL("postgres/_connect.ts", root));
  const pinned = text.match(/^import postgres from "(npm:[^"]+)";$/m)?.[1];
  assert.equal(pinned, config.imports.postgres);
  assert.match(pinned!, /^npm:postgres@\d+\.\d+\.\d+$/);
});
