// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * The demo: several processes each increment one shared counter file many
 * times, each increment under an {@linkcode InterProcessLock}. Prints what
 * each process did and the final count against the expected one, and exits
 * non-zero if an update was lost under the lock or a worker failed.
 *
 *   deno task demo [--processes N] [--increments N] [--no-lock] [--postgres]
 *   deno task demo --slots N [--processes N]
 *
 * `--no-lock` runs the same increments without the lock, to show the lost
 * updates that the lock prevents (and exits 0: that is its outcome).
 * `--postgres` takes a `PostgresLock` instead (`DATABASE_URL`, else a
 * throwaway server started from the machine's PostgreSQL binaries), as
 * processes on several hosts would. `--slots N`: 8 processes (or
 * `--processes`) each enter a room 10 times under an
 * {@linkcode InterProcessSemaphore} of N slots, and count who is inside; the
 * demo prints the peak and exits non-zero if it ever passed N.
 *
 * Ctrl-C or SIGTERM stop the workers and remove what the demo made (its
 * temporary directory, the throwaway server). An unknown option exits 64.
 *
 * @module
 */
import { InterProcessLock, InterProcessSemaphore } from "../mod.ts";

const USAGE = `Usage:
  deno task demo [--processes N] [--increments N] [--no-lock] [--postgres]
  deno task demo --slots N [--processes N]`;

/** The options that take a number, and those that take none. */
const NUMBER_OPTIONS = ["--processes", "--increments", "--slots"];
const FLAGS = ["--no-lock", "--postgres", "--help", "-h"];

/** Exits 64 on an option the demo does not know, and 0 after --help. */
function checkArgs(args: string[]): void {
  for (let i = 0; i < args.length; i++) {
    if (NUMBER_OPTIONS.includes(args[i])) i++;
    else if (!FLAGS.includes(args[i])) {
      console.error(`demo: unknown option ${args[i]} (try --help)`);
      Deno.exit(64);
    }
  }
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
}

/** The workers running, stopped when the demo is. */
const children = new Set<Deno.ChildProcess>();

/**
 * Ends the demo on SIGINT or SIGTERM through `Deno.exit`, whose "unload"
 * event removes what it made; stops the workers first.
 */
function exitOnSignals(): void {
  const signals = Deno.build.os === "windows"
    ? [["SIGINT", 130] as const]
    : [["SIGINT", 130] as const, ["SIGTERM", 143] as const];
  for (const [signal, code] of signals) {
    Deno.addSignalListener(signal, () => {
      for (const child of children) child.kill("SIGKILL");
      Deno.exit(code);
    });
  }
}

/** A temporary directory, removed when the demo ends, however it ends. */
async function demoDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "process-lock-demo-" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Removed already.
    }
  });
  return dir;
}

/** `url` without its password, for printing. */
function masked(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.href;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One worker process: `n` locked read-increment-write rounds. */
async function worker(
  lockPath: string,
  counterPath: string,
  n: number,
  locked: boolean,
  url: string,
) {
  // With PostgreSQL, the lock keeps its session for the next acquisition.
  const lock = url === ""
    ? new InterProcessLock(lockPath)
    : new (await import("../postgres/mod.ts")).PostgresLock("demo-counter", {
      url,
    });
  let longestWait = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    if (locked) await lock.acquire();
    longestWait = Math.max(longestWait, performance.now() - t);
    const value = Number(Deno.readTextFileSync(counterPath) || "0");
    await sleep(0); // a real gap between read and write, as in real work
    Deno.writeTextFileSync(counterPath, String(value + 1));
    if (locked) await lock.release();
  }
  const elapsed = performance.now() - start;
  console.log(JSON.stringify({ pid: Deno.pid, n, elapsed, longestWait }));
}

/** Rounds of a room worker. */
const ROOM_ROUNDS = 10;

/**
 * One room worker: enters the room `ROOM_ROUNDS` times under a semaphore of
 * `slots` slots, and counts who is inside (under a lock of its own).
 */
async function roomWorker(dir: string, slots: number) {
  using room = new InterProcessSemaphore(`${dir}/room.lock`, { slots });
  using count = new InterProcessLock(`${dir}/inside.lock`);
  const inside = `${dir}/inside`;
  const update = async (change: number) => {
    await count.acquire();
    const [now, peak] = Deno.readTextFileSync(inside).split(" ").map(Number);
    Deno.writeTextFileSync(
      inside,
      `${now + change} ${Math.max(peak, now + change)}`,
    );
    count.release();
  };
  let longestWait = 0;
  const start = performance.now();
  for (let i = 0; i < ROOM_ROUNDS; i++) {
    const t = performance.now();
    await room.acquire();
    longestWait = Math.max(longestWait, performance.now() - t);
    await update(+1);
    await sleep(20 + Math.random() * 30); // work in the room
    await update(-1);
    room.release();
  }
  const elapsed = performance.now() - start;
  console.log(
    JSON.stringify({ pid: Deno.pid, n: ROOM_ROUNDS, elapsed, longestWait }),
  );
}

/** `--slots N`: the room demo; exits 1 if more than N were ever inside. */
async function roomMain(slots: number) {
  const processes = option("--processes", 8);
  const dir = await demoDir();
  Deno.writeTextFileSync(`${dir}/inside`, "0 0");
  console.log(
    `${processes} processes x ${ROOM_ROUNDS} visits of a room that holds ${slots} (an InterProcessSemaphore on ${dir}/room.lock)`,
  );
  const reports = await runWorkers(processes, ["--room", dir, String(slots)]);
  printReports(reports);
  const [, peak] = Deno.readTextFileSync(`${dir}/inside`).split(" ")
    .map(Number);
  if (reports.some((r) => typeof r === "number")) {
    console.log("the demo failed: a worker did not finish (see above)");
    Deno.exit(1);
  }
  console.log(
    `peak ${peak} inside at once, ${
      peak <= slots ? "never more" : "MORE"
    } than the ${slots} slots`,
  );
  if (peak > slots) Deno.exit(1);
}

function option(name: string, fallback: number): number {
  const index = Deno.args.indexOf(name);
  if (index === -1) return fallback;
  const value = Number(Deno.args[index + 1]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`demo: ${name} needs a whole number >= 1 (try --help)`);
    Deno.exit(64);
  }
  return value;
}

/** The server of `--postgres`: DATABASE_URL, or a throwaway one. */
async function postgresUrl(): Promise<string> {
  const { pgServer } = await import("../tests/_pg_server.ts");
  const server = await pgServer();
  if (server.reason !== undefined) {
    console.error(`No PostgreSQL server: ${server.reason}`);
    Deno.exit(69);
  }
  await checkServer(server.url);
  return server.url;
}

/** Ends the demo with one line when the server cannot be used. */
async function checkServer(url: string): Promise<void> {
  const { PostgresLock, closeIdleSessions } = await import(
    "../postgres/mod.ts"
  );
  try {
    await using lock = new PostgresLock("demo-counter", { url });
    await lock.acquire({ timeout: 10_000 });
  } catch (error) {
    console.error(`demo: ${(error as Error).message}`);
    Deno.exit(69);
  } finally {
    await closeIdleSessions();
  }
}

/** Runs the workers; returns each one's report, or its exit code. */
async function runWorkers(
  processes: number,
  args: string[],
): Promise<
  ({ pid: number; n: number; elapsed: number; longestWait: number } | number)[]
> {
  const self = new URL(import.meta.url).pathname;
  const outputs = await Promise.all(Array.from(
    { length: processes },
    () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--allow-read",
          "--allow-write",
          "--allow-net",
          "--allow-env",
          self,
          "--worker",
          ...args,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      children.add(child);
      return child.output().finally(() => children.delete(child));
    },
  ));
  return outputs.map((output) =>
    output.success
      ? JSON.parse(new TextDecoder().decode(output.stdout))
      : output.code
  );
}

/** Prints each worker's report. */
function printReports(reports: Awaited<ReturnType<typeof runWorkers>>): void {
  reports.forEach((r, i) => {
    console.log(
      typeof r === "number"
        ? `  worker ${i + 1}: failed with exit code ${r}`
        : `  worker ${i + 1} (pid ${r.pid}): ${r.n} rounds in ${
          r.elapsed.toFixed(0)
        } ms, longest wait ${r.longestWait.toFixed(1)} ms`,
    );
  });
}

/**
 * Says how the count came out. Under the lock, a lost update is a failure
 * (exit 1); without it, showing the losses is the point (exit 0).
 */
function report(final: number, expected: number, locked: boolean): void {
  const count = `final count ${final}, expected ${expected}`;
  if (!locked) {
    console.log(
      final === expected
        ? `${count}: no update lost this time (try more --increments)`
        : `${count}: ${expected - final} updates lost without the lock`,
    );
  } else if (final === expected) {
    console.log(`${count}: no update lost`);
  } else {
    console.log(`${count}: ${expected - final} updates LOST`);
    Deno.exit(1);
  }
}

async function main() {
  const processes = option("--processes", 4);
  const increments = option("--increments", 300);
  const locked = !Deno.args.includes("--no-lock");
  const url = Deno.args.includes("--postgres") ? await postgresUrl() : "";
  const dir = await demoDir();
  const counterPath = `${dir}/counter`;
  const lockPath = `${dir}/counter.lock`;
  Deno.writeTextFileSync(counterPath, "0");
  console.log(
    `${processes} processes x ${increments} increments of ${counterPath}, ${
      !locked
        ? "WITHOUT the lock"
        : url
        ? `each under the PostgreSQL lock "demo-counter" (${masked(url)})`
        : `each under the lock ${lockPath}`
    }`,
  );
  const reports = await runWorkers(processes, [
    lockPath,
    counterPath,
    String(increments),
    String(locked),
    url,
  ]);
  printReports(reports);
  const final = Number(Deno.readTextFileSync(counterPath));
  if (reports.some((r) => typeof r === "number")) {
    console.log("the demo failed: a worker did not finish (see above)");
    Deno.exit(1);
  }
  report(final, processes * increments, locked);
}

if (Deno.args[0] === "--worker" && Deno.args[1] === "--room") {
  await roomWorker(Deno.args[2], Number(Deno.args[3]));
} else if (Deno.args[0] === "--worker") {
  const [, lockPath, counterPath, n, locked, url] = Deno.args;
  await worker(lockPath, counterPath, Number(n), locked === "true", url ?? "");
} else {
  checkArgs(Deno.args);
  exitOnSignals();
  if (Deno.args.includes("--slots")) await roomMain(option("--slots", 3));
  else await main();
}
