// The command line tool, run as a real process: exit statuses, conflicts,
// timeouts, shared and exclusive locks, signals, flock(1), the status line.
import assert from "node:assert/strict";
import { fixture, run, sleep, tempDir } from "./_helpers.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const HAS_FLOCK = await run("flock", ["--version"]).then(
  (r) => r.code === 0,
  () => false,
);
const HAS_SCRIPT = await run("script", ["--version"]).then(
  (r) => r.code === 0,
  () => false,
);
// These tests drive POSIX tools (sh, echo, true, sleep).
const POSIX = Deno.build.os !== "windows";
const PERMS = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-sys=hostname",
];

function cli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(Deno.execPath(), ["run", "--quiet", ...PERMS, CLI, ...args]);
}

function spawnCli(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, CLI, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n")[0];
}

Deno.test({
  name: "cli: runs the command under the lock and returns its status",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/job.lock`;
  const ok = await cli(["-n", path, "echo", "hi"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, "hi\n");
  assert.equal((await cli([path, "sh", "-c", "exit 7"])).code, 7);
  assert.equal((await cli([path, "-c", "exit 9"])).code, 9);
  assert.equal(
    (await cli(["-c", "echo via shell", path])).stdout,
    "via shell\n",
  );
  // A command that dies of a signal: 128 + its number.
  assert.equal((await cli([path, "sh", "-c", "kill -TERM $$"])).code, 143);
});

Deno.test({
  name:
    "cli: usage errors exit 64, an unopenable lock file 66, a missing command 127, one that cannot run 126",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  for (
    const args of [
      [],
      ["--bogus", "x", "true"],
      [`${dir.path}/l`],
      ["-w", "soon", `${dir.path}/l`, "true"],
      ["-E", "300", `${dir.path}/l`, "true"],
      [`${dir.path}/l`, "-c"],
    ]
  ) {
    const result = await cli(args);
    assert.equal(result.code, 64, JSON.stringify(args));
    assert.match(result.stderr, /Usage:/);
  }
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--conflict-exit-code/);
  const dirAsLock = await cli([dir.path, "true"]);
  assert.equal(dirAsLock.code, 66);
  assert.match(dirAsLock.stderr, /it is a directory/);
  const missing = await cli([`${dir.path}/l`, "no-such-command-here"]);
  assert.equal(missing.code, 127);
  // A command that exists but cannot be run.
  const script = `${dir.path}/not-executable.sh`;
  Deno.writeTextFileSync(script, "echo never\n", { mode: 0o644 });
  Deno.chmodSync(script, 0o644);
  const notRunnable = await cli([`${dir.path}/l`, script]);
  assert.equal(notRunnable.code, 126, notRunnable.stderr);
  assert.equal(notRunnable.stdout, "");
});

Deno.test({
  name:
    "cli: conflict and timeout give the conflict code; --verbose names the holder",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/job.lock`;
  await using holder = fixture("hold.ts", ["lock", path]);
  await holder.waitFor("acquired");
  const busy = await cli(["-n", path, "echo", "never"]);
  assert.equal(busy.code, 1);
  assert.equal(busy.stdout, "");
  assert.equal(busy.stderr, "", "quiet without --verbose");
  assert.equal((await cli(["-n", "-E", "9", path, "true"])).code, 9);
  const start = performance.now();
  const timedOut = await cli([
    "-w",
    "0.3",
    "--conflict-exit-code=5",
    path,
    "true",
  ]);
  const took = performance.now() - start;
  assert.equal(timedOut.code, 5);
  assert.ok(took >= 300 && took < 10_000, `took ${took} ms`);
  const verbose = await cli(["-n", "--verbose", path, "true"]);
  assert.match(verbose.stderr, new RegExp(`held by pid ${holder.process.pid}`));
  await holder.end();
  const got = await cli(["--verbose", "-w", "5", path, "true"]);
  assert.equal(got.code, 0);
  assert.match(got.stderr, /got the exclusive lock on .* after \d+ ms/);
});

Deno.test({
  name:
    "cli: shared locks share with another cli process, exclusive ones do not",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/shared.lock`;
  const go = `${dir.path}/go`;
  const reader = spawnCli([
    "-s",
    path,
    "sh",
    "-c",
    `echo in; while [ ! -e "${go}" ]; do sleep 0.05; done`,
  ]);
  assert.equal(await firstLine(reader.stdout), "in");
  const second = await cli(["-s", "-n", path, "echo", "also in"]);
  assert.equal(second.code, 0);
  assert.equal(second.stdout, "also in\n");
  assert.equal((await cli(["-x", "-n", path, "true"])).code, 1);
  Deno.writeTextFileSync(go, "");
  assert.equal((await reader.status).code, 0);
  await reader.stderr.cancel();
  assert.equal((await cli(["-x", "-n", path, "true"])).code, 0);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test({
    name:
      `cli: ${signal} is passed on to the command, and the lock is held until it exits`,
    ignore: !POSIX,
  }, async () => {
    await using dir = await tempDir();
    const path = `${dir.path}/sig.lock`;
    const marker = `${dir.path}/exited`;
    const go = `${dir.path}/go`;
    // The command's clean-up lasts until the test says go.
    const child = spawnCli([
      path,
      "sh",
      "-c",
      `trap 'while [ ! -e "${go}" ]; do sleep 0.05; done; echo done > "${marker}"; exit 42' TERM INT; echo ready; while :; do sleep 0.05; done`,
    ]);
    assert.equal(await firstLine(child.stdout), "ready");
    child.kill(signal);
    // While the command cleans up, the lock is still held.
    await sleep(100);
    assert.equal((await cli(["-n", path, "true"])).code, 1);
    Deno.writeTextFileSync(go, "");
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 42);
    assert.equal(Deno.readTextFileSync(marker), "done\n");
    assert.equal((await cli(["-n", path, "true"])).code, 0);
  });
}

Deno.test({
  name: "cli: flock(1) and the cli see each other",
  ignore: !HAS_FLOCK,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/f.lock`;
    const flock = new Deno.Command("flock", {
      args: [path, "sh", "-c", "echo held; sleep 1"],
      stdout: "piped",
    }).spawn();
    assert.equal(await firstLine(flock.stdout), "held");
    assert.equal((await cli(["-n", path, "true"])).code, 1);
    await flock.status;
    const ours = spawnCli([path, "sh", "-c", "echo held; sleep 1"]);
    assert.equal(await firstLine(ours.stdout), "held");
    assert.equal((await run("flock", ["-n", path, "true"])).code, 1);
    assert.equal((await run("flock", ["-n", "-s", path, "true"])).code, 1);
    assert.equal((await ours.status).code, 0);
    await ours.stderr.cancel();
    assert.equal((await run("flock", ["-n", path, "true"])).code, 0);
  },
});

Deno.test({
  name: "cli: no status line when stderr is not a terminal",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/quiet.lock`;
  await using holder = fixture("hold.ts", ["lock", path, "1500"]);
  await holder.waitFor("acquired");
  const result = await cli(["-w", "10", path, "true"]);
  assert.equal(result.code, 0);
  assert.equal(result.stderr, "");
});

Deno.test({
  name: "cli: a status line on a terminal while it waits longer than a second",
  ignore: !HAS_SCRIPT || Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/tty.lock`;
    await using holder = fixture("hold.ts", ["lock", path, "stdin"]);
    await holder.waitFor("acquired");
    const command = [
      Deno.execPath(),
      "run",
      "--quiet",
      ...PERMS,
      CLI,
      "-w",
      "10",
      path,
      "true",
    ]
      .map((part) => `'${part}'`).join(" ");
    // script(1) gives the cli a pseudo-terminal. The holder lets go after
    // 3 s: long enough for a slow start plus a second of waiting.
    const running = run("script", ["-qec", command, "/dev/null"]);
    await sleep(3_000);
    await holder.closeStdin();
    const result = await running;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /waiting for .*tty\.lock for \d+ s, held by pid \d+/,
    );
  },
});

for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
  Deno.test({
    name:
      `cli: ${signal} while waiting for the lock exits ${code}, as flock(1)`,
    ignore: !POSIX,
  }, async () => {
    await using dir = await tempDir();
    const path = `${dir.path}/wait.lock`;
    await using holder = fixture("hold.ts", ["lock", path, "stdin"]);
    await holder.waitFor("acquired");
    for (const args of [[path, "true"], ["-w", "30", path, "true"]]) {
      const child = spawnCli(args);
      await sleep(500); // it waits for the lock
      child.kill(signal);
      const status = await child.status;
      await child.stdout.cancel();
      await child.stderr.cancel();
      // It exits with the status; it is not killed by the signal (which
      // Deno would also report as 128+N).
      assert.equal(status.signal, null, args.join(" "));
      assert.equal(status.code, code, args.join(" "));
    }
  });
}
