// The rooms of the library, read from its import lines: the core imports no
// backend, the two backends never import each other, the PostgreSQL client
// and node:net stay in postgres/, no private file imports a public entry
// point, no import circle, and the CLI loads postgres/ only lazily.
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
/** Static imports and re-exports, with or without bindings. */
const IMPORT =
  /(?:^|\n)\s*(?:(?:import|export)[^;"]*?from\s*|import\s*)"([^"]+)"/g;

/** Library files (not tests, bench or examples), relative to the root. */
function libraryFiles(dir = ROOT): string[] {
  return [...Deno.readDirSync(dir)].flatMap((entry) => {
    const path = join(dir, entry.name);
    const rel = relative(ROOT, path);
    if (entry.isDirectory) {
      return /^(tests|bench|examples|node_modules|\.)/.test(rel)
        ? []
        : libraryFiles(path);
    }
    return rel.endsWith(".ts") ? [rel] : [];
  });
}

/** A file's static imports (not the lazy `import()`): local files, relative
 * to the root, and others. */
export function importsOf(file: string, text: string): string[] {
  return [...text.matchAll(IMPORT)].map(([, spec]) =>
    spec.startsWith(".")
      ? relative(ROOT, join(ROOT, dirname(file), spec))
      : spec
  );
}

const ENTRY_POINTS = Object.values(
  (JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))) as {
    exports: Record<string, string>;
  }).exports,
).map((path) => relative(ROOT, join(ROOT, path)));

/** The broken rules of an import graph, one line each. */
export function brokenRules(graph: Map<string, string[]>): string[] {
  const broken: string[] = [];
  const under = (file: string, room: string) => file.startsWith(`${room}/`);
  const isPrivate = (file: string) => /(^|\/)_/.test(file);
  for (const [file, imports] of graph) {
    for (const target of imports) {
      const edge = `${file} imports ${target}`;
      if (under(file, "_core") && /^(_file|postgres)\//.test(target)) {
        broken.push(`${edge}: the core imports no backend`);
      }
      if (under(file, "_file") && under(target, "postgres")) {
        broken.push(`${edge}: the backends never import each other`);
      }
      if (under(file, "postgres") && under(target, "_file")) {
        broken.push(`${edge}: the backends never import each other`);
      }
      if (/^(npm:postgres|node:net)/.test(target) && !under(file, "postgres")) {
        broken.push(`${edge}: only postgres/ uses the client and node:net`);
      }
      if (isPrivate(file) && ENTRY_POINTS.includes(target)) {
        broken.push(`${edge}: a private file imports a public entry point`);
      }
      const cli = file === "cli.ts" || under(file, "_cli");
      if (cli && /^(_core|_file|postgres\/_)/.test(target)) {
        broken.push(`${edge}: the CLI uses only public modules`);
      }
      if (file === "cli.ts" && under(target, "postgres")) {
        broken.push(`${edge}: the CLI loads postgres/ only lazily`);
      }
    }
  }
  return [...broken, ...circles(graph)];
}

/** Each import circle, as a line. */
function circles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const visit = (file: string, path: string[]) => {
    for (const next of graph.get(file) ?? []) {
      if (next === path[0]) {
        found.push(`circle: ${[...path, next].join(" -> ")}`);
      } else if (!path.includes(next) && next > path[0]) {
        visit(next, [...path, next]);
      }
    }
  };
  for (const file of graph.keys()) visit(file, [file]);
  return found;
}

function graphOf(files: string[]): Map<string, string[]> {
  return new Map(
    files.map((file) => [
      file,
      importsOf(file, Deno.readTextFileSync(join(ROOT, file))),
    ]),
  );
}

Deno.test("the layers hold: core, lock files, PostgreSQL, CLI", () => {
  assert.deepEqual(brokenRules(graphOf(libraryFiles())), []);
});

Deno.test("the layer check fails on an import that crosses a layer or closes a circle", () => {
  const graph = graphOf(libraryFiles());
  const crossed = new Map(graph);
  crossed.set("_core/_holds.ts", [
    ...graph.get("_core/_holds.ts")!,
    "postgres/_lease.ts",
  ]);
  crossed.set("_file/_backend.ts", [
    ...graph.get("_file/_backend.ts")!,
    "postgres/types.ts",
  ]);
  crossed.set("_file/_mark.ts", ["npm:postgres@3.4.9"]);
  crossed.set("postgres/_sql.ts", ["postgres/_session.ts"]);
  crossed.set("_core/_semaphore.ts", ["mod.ts"]);
  crossed.set("cli.ts", [...graph.get("cli.ts")!, "_core/_options.ts"]);
  const broken = brokenRules(crossed).join("\n");
  // A bare import counts; a lazy import() does not.
  assert.deepEqual(
    importsOf(
      "_core/_x.ts",
      'import "../postgres/_lease.ts";\nawait import("../postgres/mod.ts");',
    ),
    ["postgres/_lease.ts"],
  );
  assert.match(
    broken,
    /_core\/_holds\.ts imports postgres\/_lease\.ts: the core/,
  );
  assert.match(
    broken,
    /_file\/_backend\.ts imports postgres\/types\.ts: the backends/,
  );
  assert.match(broken, /_file\/_mark\.ts imports npm:postgres.*only postgres/);
  assert.match(broken, /circle: .*postgres\/_sql\.ts/);
  assert.match(broken, /_core\/_semaphore\.ts imports mod\.ts: a private file/);
  assert.match(broken, /cli\.ts imports _core\/_options\.ts: the CLI uses/);
});

Deno.test("the root holds only public entry points; no folder holds more than 12 files", () => {
  const rootFiles = [...Deno.readDirSync(ROOT)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".ts"))
    .map((entry) => entry.name);
  assert.deepEqual(rootFiles.filter((name) => name.startsWith("_")), []);
  for (const room of ["_core", "_file", "_cli", "postgres"]) {
    const count = [...Deno.readDirSync(join(ROOT, room))].length;
    assert.ok(count <= 12, `${room}/ holds ${count} files`);
  }
});
