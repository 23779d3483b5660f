// The README is the contract with a new user: it fits on a page, its links
// lead somewhere, and the commands it gives are the ones CI runs.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const README = Deno.readTextFileSync(new URL("README.md", ROOT));
const CI = Deno.readTextFileSync(new URL(".ci/run", ROOT));

Deno.test("the README fits on a page: at most 250 lines", () => {
  const lines = README.split("\n").length;
  assert.ok(lines <= 250, `${lines} lines`);
});

Deno.test("every relative link of the README names a file of the repository", () => {
  const links = [...README.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z]+:/.test(target));
  assert.ok(links.length > 0);
  for (const target of links) {
    assert.doesNotThrow(() => Deno.statSync(new URL(target, ROOT)), target);
  }
});

Deno.test("the README's test commands are the ones .ci/run runs", () => {
  const version = CI.match(/^DENO_VERSION=(\S+)$/m)?.[1];
  assert.ok(version);
  // .ci/run runs `deno task test` through `npx -y deno@$DENO_VERSION`.
  assert.match(CI, /deno\(\) \{ npx -y "deno@\$\{DENO_VERSION\}" "\$@"; \}/);
  assert.match(CI, /^deno task test /m);
  assert.ok(README.includes(`npx -y deno@${version} task test`));
  assert.ok(README.includes(`npx -y deno@${version} task demo`));
  // The oldest supported Deno: .ci/run runs the README's own line.
  const oldest = README.split("\n").filter((l) =>
    l.startsWith("npx -y deno@2.7")
  );
  assert.equal(oldest.length, 1, "one command for the oldest Deno");
  assert.match(CI, /grep -m1 '\^npx -y deno@2\\\.7' README\.md/);
});
