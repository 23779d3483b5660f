// The command line tool, run as a real process: exit statuses, conflicts,
// timeouts, shared and exclusive locks, signals, flock(1), the status line.
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fixture, run, sleep, tempDir } from "./_helpers.ts";
import { InterProcessSemaphore } from "../mod.ts";

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
  // Nothing reads on: close the pipe (the child writes no more).
  await reader.cancel();
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
    "cli: usage errors exit 64 with one line, an unopenable lock file 66, a missing command 127, one that cannot run 126",
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
    // One line that says what is wrong, no usage text.
    assert.match(result.stderr, /^process-lock: .* \(try --help\)\n$/);
  }
  const unknown = await cli(["-q", `${dir.path}/l`, "true"]);
  assert.equal(
    unknown.stderr,
    "process-lock: unknown option -q (try --help)\n",
  );
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--conflict-exit-code/);
  Deno.writeTextFileSync(`${dir.path}/file`, "");
  const underFile = await cli([`${dir.path}/file/l`, "true"]);
  assert.equal(underFile.code, 66);
  assert.match(underFile.stderr, /not a directory/);
  // As flock(1): no directory is created for the lock file.
  const noDir = await cli([`${dir.path}/none/l`, "true"]);
  assert.equal(noDir.code, 66);
  assert.match(noDir.stderr, /the directory ".*\/none" does not exist/);
  assert.throws(() => Deno.statSync(`${dir.path}/none`), Deno.errors.NotFound);
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
  // A semaphore: the holder of each slot.
  using semaphore = new InterProcessSemaphore(`${dir.path}/sem`, { slots: 1 });
  assert.equal(await semaphore.acquire(), true);
  const slots = await cli([
    "--slots",
    "1",
    "-n",
    "--verbose",
    `${dir.path}/sem`,
    "true",
  ]);
  assert.equal(slots.code, 1);
  assert.match(slots.stderr, new RegExp(`held by slot 0: pid ${Deno.pid}`));
  semaphore.release();
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

for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  Deno.test({
    name:
      `cli: ${signal} sent to the process group reaches the command once, and the lock is held until it exits`,
    ignore: !POSIX,
  }, async () => {
    await using dir = await tempDir();
    const path = `${dir.path}/sig.lock`;
    const marker = `${dir.path}/exited`;
    const go = `${dir.path}/go`;
    // In a process group of its own, as under a terminal or timeout(1); the
    // command counts the signals, and cleans up until the test says go.
    const child = new Deno.Command("setsid", {
      args: [
        Deno.execPath(),
        "run",
        "--quiet",
        ...PERMS,
        CLI,
        path,
        "sh",
        "-c",
        `n=0; trap 'n=$((n+1))' ${signal.slice(3)}; echo ready; ` +
        `while [ ! -e "${go}" ]; do sleep 0.05; done; echo $n > "${marker}"; exit 42`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    assert.equal(await firstLine(child.stdout), "ready");
    Deno.kill(-child.pid, signal);
    await sleep(200);
    // The command runs on, so the lock is still held.
    assert.equal((await cli(["-n", path, "true"])).code, 1);
    Deno.writeTextFileSync(go, "");
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 42);
    assert.equal(Deno.readTextFileSync(marker), "1\n", "signals seen");
    assert.equal((await cli(["-n", path, "true"])).code, 0);
  });
}

Deno.test({
  name:
    "cli: SIGHUP, SIGUSR1, SIGUSR2 and SIGALRM leave the lock held while the command runs on, as under flock(1)",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/sig.lock`;
  const go = `${dir.path}/go`;
  const child = spawnCli([
    path,
    "sh",
    "-c",
    `echo ready; while [ ! -e "${go}" ]; do sleep 0.05; done; echo done`,
  ]);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  assert.equal((await lines.read()).value, "ready\n");
  for (const signal of ["SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM"] as const) {
    child.kill(signal);
    await sleep(100);
    assert.equal((await cli(["-n", path, "true"])).code, 1, signal);
  }
  Deno.writeTextFileSync(go, "");
  assert.equal((await lines.read()).value, "done\n");
  await lines.cancel();
  await child.stderr.cancel();
  assert.equal((await child.status).code, 0);
});

Deno.test({
  name:
    "cli: -c runs $SHELL; a command ended by signal N exits 128+N (SIGXCPU, SIGRTMIN too)",
  ignore: Deno.build.os !== "linux",
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/shell.lock`;
  const bash = await run(Deno.execPath(), [
    "run",
    "--quiet",
    ...PERMS,
    "--allow-env",
    CLI,
    path,
    "-c",
    "[[ 1 == 1 ]] && echo ok",
  ], { SHELL: "/bin/bash" });
  assert.equal(bash.stdout, "ok\n", bash.stderr);
  const xcpu = await cli([path, "sh", "-c", "kill -XCPU $$"]);
  assert.equal(xcpu.code, 128 + 24);
  // A real-time signal, which Deno does not name (SIGRTMIN is 34 here).
  const rt = await cli([path, "sh", "-c", "kill -s RTMIN $$"]);
  assert.equal(rt.code, 128 + 34, rt.stderr);
});

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
      const before = Deno.readTextFileSync(path);
      const child = spawnCli(args);
      // It waits for the lock once its waiting mark is in the file (its
      // signal listeners are in place by then).
      for (
        let i = 0;
        i < 400 && Deno.readTextFileSync(path) === before;
        i++
      ) await sleep(25);
      assert.match(Deno.readTextFileSync(path), /\d+ \d+/, "it waits");
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

Deno.test({
  name: "cli: -V and --version print the version of deno.json",
  ignore: !POSIX,
}, async () => {
  const { version } = JSON.parse(
    Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
  );
  for (const flag of ["-V", "--version"]) {
    const result = await cli([flag]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `process-lock ${version}\n`);
  }
});

/** Runs `args` with flock(1) or with this cli, as `tool` says. */
function withTool(tool: "flock" | "cli", args: string[]) {
  return tool === "flock" ? run("flock", args) : cli(args);
}

Deno.test({
  name:
    "cli: flock(1)'s option forms give flock(1)'s exit codes (-nx, -sn, -w0.5, -E7, -nE7, -e, -o, -F, --timeout=, --)",
  ignore: !HAS_FLOCK,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/forms.lock`;
    const cases = [
      ["-nx", path, "true"],
      ["-sn", path, "true"],
      ["-w0.5", path, "true"],
      ["-w", "0.2", "-E", "7", path, "true"],
      ["-E7", "-n", path, "true"],
      ["-nE7", path, "true"],
      ["-e", "-n", path, "true"],
      ["-o", "-n", path, "true"],
      ["-F", "-n", "-E", "3", path, "true"],
      ["--timeout=0.2", path, "true"],
      ["--nonblock", "--conflict-exit-code=9", path, "true"],
      ["-n", "--", path, "true"],
    ];
    const codes: Record<string, number[]> = {};
    for (const holder of ["flock", "cli"] as const) {
      const held = holder === "flock"
        ? new Deno.Command("flock", {
          args: [path, "sh", "-c", "echo held; read _ || true"],
          stdin: "piped",
          stdout: "piped",
        }).spawn()
        : new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--quiet",
            ...PERMS,
            CLI,
            path,
            "sh",
            "-c",
            "echo held; read _ || true",
          ],
          stdin: "piped",
          stdout: "piped",
        }).spawn();
      assert.equal(await firstLine(held.stdout), "held");
      for (const tool of ["flock", "cli"] as const) {
        const key = `${tool} while ${holder} holds`;
        codes[key] = [];
        for (const args of cases) {
          codes[key].push((await withTool(tool, args)).code);
        }
      }
      await held.stdin.close();
      assert.equal((await held.status).code, 0);
    }
    const expected = [1, 1, 1, 7, 7, 7, 1, 1, 3, 1, 9, 1];
    for (const [key, got] of Object.entries(codes)) {
      assert.deepEqual(got, expected, key);
    }
    // And on a free lock, every form runs the command.
    for (const tool of ["flock", "cli"] as const) {
      for (const args of cases) {
        const result = await withTool(tool, [
          ...args.slice(0, -1),
          "echo",
          "ran",
        ]);
        assert.equal(
          result.code,
          0,
          `${tool} ${args.join(" ")}: ${result.stderr}`,
        );
        assert.equal(result.stdout, "ran\n");
      }
    }
  },
});

Deno.test({
  name:
    "cli: util-linux's flock(1) regression cases give the same results with this cli in flock(1)'s place",
  ignore: !HAS_FLOCK,
  async fn() {
    await using dir = await tempDir();
    for (const tool of ["flock", "cli"] as const) {
      const path = `${dir.path}/${tool}.lock`;
      const start = performance.now();
      // A shared lock held for 2 s in the background.
      const general = tool === "flock"
        ? run("flock", ["--shared", path, "sh", "-c", "echo Locking; sleep 2"])
        : cli(["--shared", path, "sh", "-c", "echo Locking; sleep 2"]);
      for (let i = 0; i < 200 && !(await isLocked(path)); i++) await sleep(20);
      const subtests: [string, string[], number, string][] = [
        ["non-block", ["--nonblock", "--conflict-exit-code", "123"], 123, ""],
        [
          "no-fork",
          ["--no-fork", "--nonblock", "--conflict-exit-code", "123"],
          123,
          "",
        ],
        ["shared", ["--shared"], 0, "Have shared lock\n"],
        [
          "exclusive",
          ["--nonblock", "--exclusive", "--conflict-exit-code", "123"],
          123,
          "",
        ],
        [
          "timeout",
          ["--timeout", "10", "--conflict-exit-code", "5"],
          0,
          "After timeout.\n",
        ],
      ];
      for (const [name, options, code, output] of subtests) {
        const message = name === "timeout"
          ? "After timeout."
          : name === "shared"
          ? "Have shared lock"
          : "You will never see this!";
        const result = await withTool(tool, [
          ...options,
          path,
          "echo",
          message,
        ]);
        assert.equal(result.code, code, `${tool} ${name}: ${result.stderr}`);
        assert.equal(result.stdout, output, `${tool} ${name}`);
      }
      // The timeout case waited for the general lock to end.
      const took = performance.now() - start;
      assert.ok(
        took >= 1_900,
        `${tool}: the general lock ended after ${took} ms`,
      );
      const ended = await general;
      assert.equal(ended.code, 0);
      assert.equal(ended.stdout, "Locking\n");
    }
  },
});

/** Whether `path` is locked (flock(1) cannot take it exclusively). */
async function isLocked(path: string): Promise<boolean> {
  return (await run("flock", ["-n", "-x", path, "true"])).code === 1;
}

Deno.test({
  name: "cli: a directory can be the lock, as in flock(1)",
  ignore: !HAS_FLOCK,
  async fn() {
    await using dir = await tempDir();
    const held = spawnCli([dir.path, "sh", "-c", "echo held; sleep 0.5"]);
    assert.equal(await firstLine(held.stdout), "held");
    assert.equal(await isLocked(dir.path), true);
    await held.status;
    await held.stderr.cancel();
    assert.equal(await isLocked(dir.path), false);
    const flock = new Deno.Command("flock", {
      args: [dir.path, "sh", "-c", "echo held; read _ || true"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    assert.equal(await firstLine(flock.stdout), "held");
    assert.equal((await cli(["-n", dir.path, "true"])).code, 1);
    await flock.stdin.close();
    await flock.status;
    assert.equal(
      (await cli(["-n", dir.path, "echo", "mine"])).stdout,
      "mine\n",
    );
  },
});

const IS_ROOT = POSIX && Deno.uid() === 0;
const CAN_MOUNT = Deno.build.os === "linux" && IS_ROOT &&
  (await run("unshare", ["-m", "true"]).then((r) => r.code === 0, () => false));

Deno.test({
  name:
    "cli: an existing lock file that can only be opened for reading can be the lock",
  ignore: !POSIX || (IS_ROOT && !CAN_MOUNT),
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/ro/job.lock`;
    Deno.mkdirSync(`${dir.path}/ro`);
    Deno.writeTextFileSync(path, "");
    const command = [
      Deno.execPath(),
      "run",
      "--quiet",
      ...PERMS,
      CLI,
      "-n",
      path,
    ];
    let result;
    if (IS_ROOT) {
      // Root writes any file: make the file system read-only instead.
      result = await run("unshare", [
        "-m",
        "sh",
        "-c",
        `mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && ! touch "$1/../x" 2>/dev/null && shift && exec "$@" sh -c 'echo locked'`,
        "sh",
        `${dir.path}/ro`,
        path,
        ...command,
      ]);
    } else {
      Deno.chmodSync(path, 0o444);
      result = await run(command[0], [
        ...command.slice(1),
        "sh",
        "-c",
        "echo locked",
      ]);
    }
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "locked\n");
  },
});

Deno.test({
  name:
    "cli: --verbose names a holder without a host name as 'held by pid N since ...'",
  ignore: !POSIX,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/nameless.lock`;
  await using holder = fixture("hold.ts", ["lock", path, "stdin"], {
    permissions: ["--allow-read", "--allow-write"],
  });
  await holder.waitFor("acquired");
  const busy = await cli(["-n", "--verbose", path, "true"]);
  assert.equal(busy.code, 1);
  assert.match(
    busy.stderr,
    new RegExp(`: held by pid ${holder.process.pid} since \\d{4}-`),
  );
  assert.doesNotMatch(busy.stderr, / on {2}/);
});

Deno.test({
  name:
    "cli: the README's install line from a clone gives a command whose --postgres loads",
  ignore: !POSIX,
}, async () => {
  const root = new URL("../", import.meta.url).pathname;
  const readme = Deno.readTextFileSync(`${root}README.md`);
  const line = readme.split("\n").find((l) =>
    l.startsWith("deno install") && l.includes("./cli.ts")
  );
  assert.ok(line, "no install line for a clone in the README");
  await using dir = await tempDir();
  const args = line.replace(/#.*/, "").trim().split(/\s+/).slice(1);
  // Into a temporary root instead of the user's.
  args.splice(args.indexOf("-g") + 1, 0, "--root", dir.path);
  const install = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
  const bin = `${dir.path}/bin/process-lock`;
  // The installed command runs `deno` from PATH (this test may run through
  // the binary directly, with no deno on PATH; the Deno 2.7 run reads no
  // environment, and has deno on PATH).
  const canRead = Deno.permissions.querySync({ name: "env", variable: "PATH" });
  const env = canRead.state !== "granted" ? undefined : {
    PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH")}`,
  };
  const version = await run(bin, ["--version"], env);
  assert.match(version.stdout, /^process-lock \d+\.\d+\.\d+\n$/);
  // Nothing listens on port 1: the PostgreSQL module loaded and connected.
  const pg = await run(bin, [
    "--postgres",
    "postgres://postgres@127.0.0.1:1/none",
    "-n",
    "name",
    "true",
  ], env);
  assert.equal(pg.code, 69, pg.stderr);
  assert.match(pg.stderr, /ECONNREFUSED/);
});
