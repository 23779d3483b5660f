// The mutation check: applies each one-line break of `mutants.ts` to a copy
// of the tree, runs the test files that should catch it, and prints one line
// per mutant and a total. Exits 1 when a mutant is missed, no longer
// applies, or does not parse (it would fail every test for nothing), so
// that a test that no break can fail does not go unnoticed.
//
//   deno task mutants [--verbose] [id ...]
import { dirname, join } from "node:path";
import { TEST_PERMISSIONS } from "../_helpers.ts";
import { type Mutant, MUTANTS } from "./mutants.ts";

/** How long one mutant's test run may take before it counts as caught. */
const LIMIT_MS = 240_000;

const root = new URL("../../", import.meta.url).pathname;
const wanted = new Set(Deno.args);
const verbose = wanted.delete("--verbose");
const unknown = [...wanted].filter((id) => !MUTANTS.some((m) => m.id === id));
if (unknown.length > 0) {
  console.error(`No mutant named ${unknown.join(", ")}`);
  Deno.exit(64);
}
const chosen = MUTANTS.filter((m) => wanted.size === 0 || wanted.has(m.id));

const copy = await Deno.makeTempDir({ prefix: "process-lock-mutants-" });
let missed = 0;
/** The test that failed first, by mutant (`--verbose` prints it). */
const caughtBy = new Map<string, string>();
try {
  await copyTree(root, copy);
  for (const mutant of chosen) {
    const start = performance.now();
    const outcome = await check(mutant, copy);
    if (outcome !== "caught") missed++;
    const seconds = `${((performance.now() - start) / 1000).toFixed(0)} s`;
    console.log(
      outcome.padEnd(8),
      mutant.id.padEnd(18),
      seconds.padStart(5),
      mutant.why,
    );
    if (verbose && caughtBy.has(mutant.id)) {
      console.log(`         caught by: ${caughtBy.get(mutant.id)}`);
    }
  }
} finally {
  await Deno.remove(copy, { recursive: true });
}
console.log(`${chosen.length - missed} caught, ${missed} missed`);
Deno.exit(missed === 0 ? 0 : 1);

/** Applies one mutant in `tree`, runs its tests, and puts the file back. */
async function check(
  mutant: Mutant,
  tree: string,
): Promise<"caught" | "missed" | "stale" | "invalid"> {
  const file = join(tree, mutant.file);
  const original = await Deno.readTextFile(file);
  if (original.split(mutant.find).length !== 2) return "stale";
  await Deno.writeTextFile(file, original.replace(mutant.find, mutant.replace));
  try {
    const child = new Deno.Command(Deno.execPath(), {
      // No type check: a break is judged by the behaviour it changes.
      args: [
        "test",
        "--no-check",
        "--fail-fast",
        ...TEST_PERMISSIONS,
        ...mutant.filter === undefined ? [] : ["--filter", mutant.filter],
        ...mutant.tests,
      ],
      cwd: tree,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), LIMIT_MS);
    const output = await child.output();
    clearTimeout(timer);
    const text = new TextDecoder().decode(output.stderr) +
      new TextDecoder().decode(output.stdout);
    // A break that does not even parse proves nothing about the tests.
    if (/SyntaxError|ReferenceError/.test(text)) return "invalid";
    if (output.success) return "missed";
    caughtBy.set(mutant.id, text.match(/^(.*) \.\.\. FAILED/m)?.[1] ?? "");
    return "caught";
  } finally {
    await Deno.writeTextFile(file, original);
  }
}

/** Copies the files git knows (tracked, or new and not ignored). */
async function copyTree(from: string, to: string): Promise<void> {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: from,
    stdout: "piped",
  }).output();
  const names = new TextDecoder().decode(listed.stdout).split("\0");
  for (const name of names.filter(Boolean)) {
    try {
      await Deno.mkdir(dirname(join(to, name)), { recursive: true });
      await Deno.copyFile(join(from, name), join(to, name));
    } catch (error) {
      // A tracked file deleted in the work tree is simply not copied.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}
