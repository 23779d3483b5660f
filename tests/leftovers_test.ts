// A test run leaves nothing in the temp directory and prints no usage texts
// or debug lines: the doc examples and the suite's helpers clean up.
import assert from "node:assert/strict";
import { tempDir, TEST_PERMISSIONS } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
// The files whose doc examples the suite runs: deno.json's test list.
const DOCUMENTED = (JSON.parse(
  Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
) as { test: { include: string[] } }).test.include
  .filter((entry) => entry !== "tests/");

// Deno 2.7's test runner cannot read this deno.json (see the README).
const [major, minor] = Deno.version.deno.split(".").map(Number);
const CONFIG_READABLE = major > 2 || major === 2 && minor >= 8;

Deno.test({
  name:
    "the doc examples leave nothing in the temp directory and print no usage text or debug line",
  ignore: !CONFIG_READABLE,
}, async () => {
  // A temp directory of their own, so that other tests running at the same
  // time cannot make this one fail.
  const tmp = await Deno.makeTempDir({ prefix: "process-lock-doc-tmp-" });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "--doc",
        ...TEST_PERMISSIONS,
        ...DOCUMENTED,
      ],
      cwd: ROOT,
      env: { TMPDIR: tmp, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) +
      new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.doesNotMatch(text, /Usage:|^Attempt \d|^Waiting/m);
    assert.deepEqual(
      [...Deno.readDirSync(tmp)].map((entry) => entry.name),
      [],
      "left in the temp directory",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("tempDir() removes its directory, with what is in it", async () => {
  let path: string;
  {
    await using dir = await tempDir();
    path = dir.path;
    Deno.writeTextFileSync(`${path}/a.lock`, "");
  }
  assert.throws(() => Deno.statSync(path), Deno.errors.NotFound);
});
