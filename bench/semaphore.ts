// The semaphore against the lock, for `deno task bench --only=semaphore`
// (also part of the whole run): throughput and longest wait of 8 processes
// looping with 5 ms holds, the CPU of a waiter while every slot is held,
// and the hand-off from a releasing holder to a waiter. Each figure beside
// the lock's, measured in the same run.
import process from "node:process";
import { InterProcessLock, InterProcessSemaphore } from "../mod.ts";
import { lines } from "../tests/_helpers.ts";

type Print = (line?: string) => void;
const SLOTS = Number(Deno.env.get("SEM_SLOTS") ?? 4);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** A lock object of the kind: "lock", or "sem" (SLOTS slots). */
function lockOf(kind: string, path: string) {
  return kind === "sem"
    ? new InterProcessSemaphore(path, { slots: SLOTS })
    : new InterProcessLock(path);
}

function spawn(args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", import.meta.filename!, ...args],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
}

// ---------------------------------------------------------------- workers

/** Loops for `ms`: acquire, hold 5 ms, release. Prints count and longest. */
async function loopWorker(kind: string, path: string, ms: number) {
  const lock = lockOf(kind, path);
  let count = 0;
  let longest = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    await lock.acquire();
    longest = Math.max(longest, performance.now() - t);
    await sleep(5);
    lock.release();
    count++;
  }
  console.log(JSON.stringify({ count, longest }));
}

/** Waits (default options) each time the parent says so; prints when held. */
async function waitWorker(kind: string, path: string, cpuOnly: boolean) {
  const lock = lockOf(kind, path);
  // Warm up the code on a lock of its own.
  const warm = lockOf(kind, `${path}.warm`);
  for (let i = 0; i < 20; i++) {
    await warm.acquire();
    warm.release();
  }
  await sleep(1000);
  console.log("ready");
  for await (const line of lines(Deno.stdin.readable)) {
    if (line !== "go") break;
    const before = process.cpuUsage();
    const acquiring = lock.acquire();
    console.log("waiting");
    await acquiring;
    const at = now();
    const used = process.cpuUsage(before);
    lock.release();
    console.log(
      cpuOnly ? String((used.user + used.system) / 1000) : `got ${at}`,
    );
  }
}

// ----------------------------------------------------------------- parent

/** 8 processes looping for 2 s on a lock or a semaphore. */
async function throughput(kind: string, dir: string) {
  const path = `${dir}/loop-${kind}.lock`;
  const ms = 2_000;
  const children = Array.from(
    { length: 8 },
    () => spawn(["--worker", "loop", kind, path, String(ms)]),
  );
  const outputs = await Promise.all(children.map((c) => c.output()));
  const reports = outputs.map((o) =>
    JSON.parse(new TextDecoder().decode(o.stdout))
  );
  return {
    perSecond: reports.reduce((n, r) => n + r.count, 0) / (ms / 1000),
    longest: Math.max(...reports.map((r) => r.longest)),
  };
}

/** Holds everything a waiter could take: the lock, or every slot. */
async function holdAll(kind: string, path: string) {
  const held = Array.from(
    { length: kind === "sem" ? SLOTS : 1 },
    () => lockOf(kind, path),
  );
  for (const lock of held) await lock.acquire();
  return held;
}

/**
 * A waiter in another process, `samples` times: the parent holds all, lets
 * one go after `holdMs`; the hand-off latency or the waiter's CPU.
 */
async function waits(
  kind: string,
  dir: string,
  samples: number,
  holdMs: number,
  cpuOnly: boolean,
) {
  const path = `${dir}/wait-${kind}-${cpuOnly}.lock`;
  const child = spawn(["--worker", "wait", kind, path, String(cpuOnly)]);
  const out = lines(child.stdout);
  const next = async () => (await out.next()).value as string;
  await next(); // "ready"
  const writer = child.stdin.getWriter();
  const results: number[] = [];
  for (let i = 0; i < samples; i++) {
    const held = await holdAll(kind, path);
    await writer.write(new TextEncoder().encode("go\n"));
    await next(); // "waiting"
    await sleep(holdMs + Math.random() * 10);
    const released = now();
    held[0].release();
    const line = await next();
    results.push(
      cpuOnly ? Number(line) : Number(line.split(" ")[1]) - released,
    );
    for (const lock of held.slice(1)) lock.release();
  }
  await writer.close();
  await child.status;
  return results;
}

/** Every section, each figure beside the lock's in the same run. */
export async function semaphoreBench(print: Print, quick: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "process-lock-bench-" });
  print(`## Semaphore (${SLOTS} slots) against the lock, same run`);
  print();
  print("8 processes, each looping for 2 s: acquire, hold 5 ms, release.");
  print();
  print("| lock | acquisitions/s | longest wait |");
  print("| --- | ---: | ---: |");
  const lock = await throughput("lock", dir);
  const sem = await throughput("sem", dir);
  print(
    `| InterProcessLock | ${lock.perSecond.toFixed(0)} | ${
      fmt(lock.longest)
    } |`,
  );
  print(
    `| InterProcessSemaphore, ${SLOTS} slots | ${sem.perSecond.toFixed(0)} | ${
      fmt(sem.longest)
    } |`,
  );
  print(
    `| ratio (target: rate >= 0.8 x ${SLOTS} x the lock's, wait <= 3x) | ${
      (sem.perSecond / (SLOTS * lock.perSecond)).toFixed(2)
    } | ${(sem.longest / lock.longest).toFixed(2)} |`,
  );
  print();
  const cpuRuns = quick ? 2 : 5;
  const handoffs = quick ? 20 : 60;
  print(
    `A waiter with default options in another process: its CPU while everything is held for 2 s (median of ${cpuRuns}), and the hand-off from a release to its grant (${handoffs} samples).`,
  );
  print();
  print("| lock | waiter CPU over 2 s | hand-off p50 | hand-off p99 |");
  print("| --- | ---: | ---: | ---: |");
  const rows: Record<string, { cpu: number; p50: number }> = {};
  for (const kind of ["lock", "sem"]) {
    const cpu = median(await waits(kind, dir, cpuRuns, 2_000, true));
    const latencies = await waits(kind, dir, handoffs, 20, false);
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = median(latencies);
    rows[kind] = { cpu, p50 };
    print(
      `| ${
        kind === "sem"
          ? `InterProcessSemaphore, ${SLOTS} slots`
          : "InterProcessLock"
      } | ${fmt(cpu)} | ${fmt(p50)} | ${
        fmt(sorted[Math.floor(sorted.length * 0.99)])
      } |`,
    );
  }
  print(
    `| difference, ratio (target: CPU within 2 ms, hand-off <= 2x) | ${
      fmt(rows.sem.cpu - rows.lock.cpu)
    } | ${(rows.sem.p50 / rows.lock.p50).toFixed(2)}x | |`,
  );
  print();
  await Deno.remove(dir, { recursive: true });
}

// Only when run itself: bench/multiprocess.ts imports this file, and its
// own workers must not run these.
if (import.meta.main && Deno.args[0] === "--worker") {
  const [, role, kind, path, arg] = Deno.args;
  if (role === "loop") await loopWorker(kind, path, Number(arg));
  else await waitWorker(kind, path, arg === "true");
} else if (import.meta.main) {
  await semaphoreBench(
    (line = "") => console.log(line),
    Deno.args.includes("--quick"),
  );
}
