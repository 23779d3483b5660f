// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * Multi-process benchmarks. Every figure for this library stands beside
 * baselines measured in the same run: a raw blocking `FsFile.lock()` waiter,
 * a fasteners-style polling waiter (`tryLockSync`, sleeping 10 ms more per
 * failed try up to 100 ms) and, for single-process costs, a raw loop that
 * makes the checks a safe lock must make. This library runs with default
 * options and with a `timeout` on every call (both watch the file, with
 * fasteners' backoff; before issue 24 the first waited in the kernel).
 *
 *   deno task bench                   (the whole suite, a few minutes)
 *   deno task bench --quick           (fewer samples)
 *   deno task bench --only=NAME       (uncontended, handoff, kill, cpu,
 *                                      counter, loop, semaphore or
 *                                      weblocks)
 *   deno task bench --postgres        (the PostgreSQL locks, beside a
 *                                      polling pg_try_advisory_lock loop)
 *
 * @module
 */
import { cpuUsage } from "node:process";
import {
  InterProcessLock,
  interprocessLocked,
  InterProcessReaderWriterLock,
} from "../mod.ts";
import postgres from "postgres";
import {
  closeIdleSessions,
  PostgresLock,
  postgresLockKey,
} from "../postgres/mod.ts";
import { pgFailures } from "./pg_failures.ts";
import { semaphoreBench } from "./semaphore.ts";
import { pgServer } from "../tests/_pg_server.ts";

/** How a process waits: the library in its two modes, and the baselines. */
type Kind = "lib" | "libt" | "raw" | "poll" | "idle";
const OPEN: Deno.OpenOptions = { read: true, write: true, create: true };
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const encoder = new TextEncoder();
const say = (line: string) =>
  Deno.stdout.writeSync(encoder.encode(line + "\n"));

// ------------------------------------------------------------ PostgreSQL

/** One client per process, connected on first use. */
let pgClient: ReturnType<typeof postgres> | undefined;
function pgSql(): ReturnType<typeof postgres> {
  pgClient ??= postgres(PG_URL, { max: 2, onnotice: () => {} });
  return pgClient;
}
let PG_URL = "";

/**
 * A PostgreSQL waiter: "pg" (PostgresLock on this process's client, waiting
 * in the server) or "pgpoll" (pg_try_advisory_lock, sleeping 10 ms more per
 * failed try up to 100 ms).
 */
async function pgAcquireAs(
  kind: string,
  name: string,
): Promise<() => Promise<void>> {
  if (kind === "pg") {
    const lock = new PostgresLock(name, { sql: pgSql() });
    if (!(await lock.acquire())) throw new Error("not acquired");
    return () => lock.release();
  }
  const session = await pgSql().reserve();
  const key = postgresLockKey(name);
  for (let attempt = 1;; attempt++) {
    const [row] = await session.unsafe(
      `SELECT pg_try_advisory_lock(${key}) AS ok`,
    );
    if (row.ok) break;
    await sleep(Math.min(attempt * 10, 100));
  }
  return async () => {
    await session.unsafe(`SELECT pg_advisory_unlock(${key})`);
    session.release();
  };
}

/** A waiter of the given kind: resolves once the lock is held. */
async function acquireAs(kind: Kind, path: string): Promise<() => void> {
  if (kind === "lib" || kind === "libt") {
    const lock = new InterProcessLock(path);
    const ok = await lock.acquire(kind === "libt" ? { timeout: 600_000 } : {});
    if (!ok) throw new Error("timed out");
    return () => lock.release();
  }
  const file = Deno.openSync(path, OPEN);
  if (kind === "raw") {
    await file.lock(true);
  } else {
    // fasteners: try, sleep delay, delay more per failed try, up to 100 ms.
    for (let attempt = 1; !file.tryLockSync(true); attempt++) {
      await sleep(Math.min(attempt * 10, 100));
    }
  }
  return () => {
    file.unlockSync();
    file.close();
  };
}

/** The lines of a text stream, without their line ends. */
async function* linesOf(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let i;
    while ((i = pending.indexOf("\n")) !== -1) {
      yield pending.slice(0, i);
      pending = pending.slice(i + 1);
    }
  }
}

// ---------------------------------------------------------------- workers

/** Waits for the lock each time the parent says "go"; prints when held. */
async function handoffWorker(kind: Kind, path: string) {
  for await (const line of linesOf(Deno.stdin.readable)) {
    if (line !== "go") break;
    const acquiring = acquireAs(kind, path);
    say("waiting");
    const release = await acquiring;
    say(`got ${now()}`);
    release();
  }
}

/** The counter file's fixed width: a decimal number padded with spaces. */
const COUNTER_WIDTH = 16;
const counterBytes = (value: number) =>
  encoder.encode(String(value).padEnd(COUNTER_WIDTH));

/**
 * Increments the counter n times under the lock that `acquire` takes
 * (resolving to its release); reports its waits. Warms up first with
 * `warmRounds` rounds on `acquireWarm`.
 */
async function counterWorker(
  acquire: () => Promise<() => unknown>,
  acquireWarm: () => Promise<() => unknown>,
  warmRounds: number,
  counter: string,
  n: number,
) {
  let longest = 0;
  // Rewritten in place: ext4 flushes a truncated and rewritten file on
  // close (about 0.3 ms), which would measure ext4, not the lock.
  const file = Deno.openSync(counter, { read: true, write: true });
  const bytes = new Uint8Array(COUNTER_WIDTH);
  // Warm up (V8 compiles hot code in tiers), then start with the others:
  // the parent says "go" once every worker is ready.
  for (let i = 0; i < warmRounds; i++) await (await acquireWarm())();
  say("ready");
  await linesOf(Deno.stdin.readable).next();
  const start = now();
  for (let i = 0; i < n; i++) {
    const t = now();
    const release = await acquire();
    longest = Math.max(longest, now() - t);
    file.seekSync(0, Deno.SeekMode.Start);
    const got = file.readSync(bytes) ?? 0;
    const value = Number(new TextDecoder().decode(bytes.subarray(0, got)));
    file.seekSync(0, Deno.SeekMode.Start);
    file.writeSync(counterBytes(value + 1));
    await release();
  }
  file.close();
  say(JSON.stringify({ longest, elapsed: now() - start }));
}

/** Waits for a lock held by the parent, then reports its CPU time. */
async function cpuWorker(kind: Kind, path: string) {
  // Warm up: run the waiting code a few times on a lock held for 30 ms
  // (through another open file: the library waits for its own holders
  // differently), in a lock file of the kind that the run uses.
  (await acquireAs(kind === "idle" ? "raw" : kind, `${path}.warm`))();
  for (let i = 0; i < 3; i++) {
    const held = Deno.openSync(`${path}.warm`, OPEN);
    held.lockSync(true);
    const waiting = acquireAs(kind === "idle" ? "raw" : kind, `${path}.warm`);
    await sleep(30);
    held.close();
    (await waiting)();
  }
  // V8 keeps compiling and collecting for a while after start-up.
  await sleep(1000);
  say("ready");
  const before = cpuUsage();
  if (kind === "idle") {
    await sleep(2000);
  } else {
    (await acquireAs(kind, path))();
  }
  const used = cpuUsage(before);
  say(String((used.user + used.system) / 1000));
}

/** Loops on a lock in one of the busy patterns until stdin closes. */
async function loopWorker(pattern: string, path: string) {
  let running = true;
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* drain */ }
    running = false;
  })();
  let loops = 0;
  const work = () => {
    loops++;
    const spin = performance.now() + 1;
    while (performance.now() < spin) { /* about 1 ms under the lock */ }
  };
  const lock = new InterProcessLock(path);
  const rw = new InterProcessReaderWriterLock(path);
  const locked = interprocessLocked(path)(work);
  const task = async () => {
    while (running) {
      if (pattern === "decorator") {
        await locked();
      } else if (pattern === "write") {
        await rw.acquireWriteLock();
        work();
        rw.releaseWriteLock();
      } else {
        await lock.acquire();
        work();
        lock.release();
      }
      // Only "await" leaves the job each time; the others every 500 loops,
      // to see stdin (tasks that hand the lock on need no event loop turn).
      if (pattern === "await" || loops % 500 === 0) await sleep(0);
    }
  };
  say("looping");
  const tasks = pattern === "same-job" || pattern === "await" ? 1 : 2;
  await Promise.all(Array.from({ length: tasks }, task));
  Deno.exit(0);
}

// ----------------------------------------------------------------- parent

function spawn(args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      "--allow-sys=hostname",
      "--allow-net",
      "--allow-env",
      import.meta.filename!,
      ...args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

class Lines {
  #it: AsyncIterator<string>;
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#it = linesOf(stream);
  }
  async next(): Promise<string> {
    const r = await this.#it.next();
    if (r.done) throw new Error("worker ended early");
    return r.value;
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ];
}
const median = (values: number[]) => percentile(values, 50);

const fmt = (ms: number) =>
  ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;

/** Cycles per second of `cycle`, each with an await as real code has. */
async function rate(cycle: () => Promise<void>, ms: number): Promise<number> {
  let n = 0;
  const t = performance.now();
  while (performance.now() - t < ms) {
    for (let i = 0; i < 100; i++) await cycle();
    n += 100;
  }
  return n / ((performance.now() - t) / 1000);
}

async function uncontended(dir: string, seconds: number) {
  const raw = `${dir}/raw.lock`;
  const foreign = `${dir}/foreign.lock`;
  Deno.writeTextFileSync(raw, "");
  Deno.writeTextFileSync(foreign, "");
  const own = `${dir}/own.lock`;
  const foreignLock = new InterProcessLock(foreign);
  const ownLock = new InterProcessLock(own);
  const loops: Record<string, () => Promise<void>> = {
    plain: async () => {
      const f = Deno.openSync(raw, OPEN);
      f.tryLockSync(true);
      await null;
      f.unlockSync();
      f.close();
    },
    checked: async () => {
      const f = Deno.openSync(raw, OPEN);
      f.tryLockSync(true);
      if (f.statSync().ino !== Deno.statSync(raw).ino) throw new Error("x");
      await null;
      f.unlockSync();
      f.close();
    },
    foreign: async () => {
      await foreignLock.acquire();
      await null;
      foreignLock.release();
    },
    own: async () => {
      await ownLock.acquire();
      await null;
      ownLock.release();
    },
  };
  const rates: Record<string, number[]> = {};
  // Interleave short rounds so that every loop sees the same machine.
  for (let round = 0; round < 6; round++) {
    for (const [name, cycle] of Object.entries(loops)) {
      (rates[name] ??= []).push(await rate(cycle, (seconds * 1000) / 24));
    }
  }
  return Object.fromEntries(
    Object.entries(rates).map(([name, values]) => [name, median(values)]),
  );
}

async function handoff(kind: Kind, dir: string, samples: number) {
  const path = `${dir}/handoff-${kind}.lock`;
  const child = spawn(["--worker", "handoff", kind, path]);
  const lines = new Lines(child.stdout);
  const writer = child.stdin.getWriter();
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const file = Deno.openSync(path, OPEN);
    while (!file.tryLockSync(true)) await sleep(1);
    await writer.write(encoder.encode("go\n"));
    await lines.next(); // "waiting"
    await sleep(15 + Math.random() * 10);
    const released = now();
    file.unlockSync();
    file.close();
    const got = Number((await lines.next()).split(" ")[1]);
    latencies.push(got - released);
  }
  await writer.close();
  await child.status;
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
  };
}

async function sigkill(kind: Kind, dir: string, rounds: number) {
  const path = `${dir}/kill-${kind}.lock`;
  const waits: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const holder = spawn(["--worker", "hold", path]);
    const lines = new Lines(holder.stdout);
    await lines.next(); // "held"
    const acquiring = acquireAs(kind, path);
    await sleep(30 + Math.random() * 20);
    const killed = now();
    holder.kill("SIGKILL");
    const release = await acquiring;
    waits.push(now() - killed);
    release();
    await holder.status;
    await holder.stdin.close().catch(() => {});
  }
  return { p50: percentile(waits, 50), max: Math.max(...waits) };
}

/**
 * `processes` workers (`--worker ...worker counter n`) increment one counter
 * file `n` times each, starting together.
 */
async function contended(
  worker: string[],
  counter: string,
  processes: number,
  n: number,
) {
  Deno.writeFileSync(counter, counterBytes(0));
  const children = Array.from(
    { length: processes },
    () => spawn(["--worker", ...worker, counter, String(n)]),
  );
  const lines = children.map((c) => new Lines(c.stdout));
  await Promise.all(lines.map((l) => l.next())); // "ready"
  await Promise.all(children.map(async (c) => {
    const writer = c.stdin.getWriter();
    await writer.write(encoder.encode("go\n"));
    await writer.close();
  }));
  const reports = await Promise.all(
    lines.map(async (l) => JSON.parse(await l.next())),
  );
  await Promise.all(children.map((c) => c.status));
  const final = Number(Deno.readTextFileSync(counter));
  const work = Math.max(...reports.map((r) => r.elapsed));
  return {
    perSecond: (processes * n) / (work / 1000),
    lost: processes * n - final,
    longest: Math.max(...reports.map((r) => r.longest)),
  };
}

/** The CPU times of `waiters` processes waiting 2 s for a held lock. */
async function cpu(kind: Kind, dir: string, waiters: number) {
  const path = `${dir}/cpu-${kind}-${waiters}-${Math.random()}.lock`;
  const lock = new InterProcessLock(path);
  await lock.acquire();
  const children = Array.from(
    { length: waiters },
    () => spawn(["--worker", "cpu", kind, path]),
  );
  for (const child of children) await child.stdin.close();
  const lines = children.map((c) => new Lines(c.stdout));
  await Promise.all(lines.map((l) => l.next())); // "ready"
  await sleep(2000);
  lock.release();
  const used = await Promise.all(
    lines.map(async (l) => Number(await l.next())),
  );
  await Promise.all(children.map((c) => c.status));
  return used;
}

/**
 * The longest of `rounds` waits of a `kind` waiter for a lock that another
 * process loops on in `pattern`.
 */
async function busyLoop(
  kind: Kind,
  pattern: string,
  path: string,
  rounds: number,
) {
  const looper = spawn(["--worker", "loop", pattern, path]);
  await new Lines(looper.stdout).next(); // "looping"
  await sleep(100);
  let longest = 0;
  let starved = false;
  for (let i = 0; i < rounds && !starved; i++) {
    const t = now();
    const acquiring = acquireAs(kind, path);
    // A waiter that is shut out for 5 s counts as starved: the loop stops
    // so that the wait can end.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        starved = true;
        looper.stdin.close().catch(() => {});
        resolve();
      }, 5_000);
    });
    await Promise.race([acquiring, stop]);
    clearTimeout(timer);
    const release = await acquiring;
    longest = Math.max(longest, now() - t);
    release();
    await sleep(20 + Math.random() * 20);
  }
  if (!starved) await looper.stdin.close();
  await looper.status;
  return starved ? Infinity : longest;
}

async function main() {
  const quick = Deno.args.includes("--quick");
  const only = Deno.args.find((a) => a.startsWith("--only="))?.slice(7);
  const part = (name: string) => only === undefined || only === name;
  const dir = await Deno.makeTempDir({ prefix: "process-lock-bench-" });
  const kinds: Kind[] = ["lib", "libt", "raw", "poll"];
  const label: Record<Kind, string> = {
    lib: "@locks/process-lock, default options (watch + backoff)",
    libt: "@locks/process-lock, with a timeout (watch + backoff)",
    raw: "baseline: raw blocking FsFile.lock() waiter",
    poll: "baseline: fasteners-style polling (10-100 ms)",
    idle: "baseline: a process sleeping 2 s, no lock",
  };
  const print = (line = "") => console.log(line);

  if (part("uncontended")) {
    const u = await uncontended(dir, quick ? 3 : 12);
    print("## Uncontended acquire + await + release, one process");
    print();
    print("| loop | per second | vs raw checking loop |");
    print("| --- | ---: | ---: |");
    const row = (name: string, value: number) =>
      print(
        `| ${name} | ${value.toFixed(0)} | ${
          (value / u.checked).toFixed(2)
        }x |`,
      );
    row("raw: openSync + tryLockSync + unlockSync + close", u.plain);
    row(
      "baseline: raw checking loop (+ fstat + stat after locking)",
      u.checked,
    );
    row("InterProcessLock on a file made by another tool", u.foreign);
    row("InterProcessLock on a file it created (owner record)", u.own);
    print();
  }

  if (part("handoff")) {
    const samples = quick ? 40 : 200;
    print(
      `## Cross-process hand-off (holder releases, waiter holds), ${samples} samples`,
    );
    print();
    print("| waiter | p50 | vs raw | p99 | max |");
    print("| --- | ---: | ---: | ---: | ---: |");
    const results: Partial<Record<Kind, { p50: number }>> = {};
    for (const kind of ["raw", "lib", "libt", "poll"] as Kind[]) {
      const h = await handoff(
        kind,
        dir,
        kind === "poll" ? Math.min(samples, 60) : samples,
      );
      results[kind] = h;
      print(
        `| ${label[kind]} | ${fmt(h.p50)} | ${
          (h.p50 / results.raw!.p50).toFixed(2)
        }x | ${fmt(h.p99)} | ${fmt(h.max)} |`,
      );
    }
    print();
  }

  if (part("kill")) {
    const rounds = quick ? 5 : 20;
    print(
      `## Holder killed with SIGKILL: until a waiter holds the lock, ${rounds} rounds`,
    );
    print();
    print("| waiter | p50 | max |");
    print("| --- | ---: | ---: |");
    for (const kind of ["raw", "lib", "libt", "poll"] as Kind[]) {
      const k = await sigkill(kind, dir, rounds);
      print(`| ${label[kind]} | ${fmt(k.p50)} | ${fmt(k.max)} |`);
    }
    print();
  }

  if (part("cpu")) {
    print(
      "## CPU burnt while waiting 2 s for a lock held by another process (after a warm-up)",
    );
    print();
    print(
      "| waiter | 1 waiter (median of 3 runs) | 8 waiters: quietest | 8 waiters: busiest |",
    );
    print("| --- | ---: | ---: | ---: |");
    for (const kind of ["raw", "lib", "libt", "poll", "idle"] as Kind[]) {
      // One waiter: the median of three runs.
      const one = median([
        ...await cpu(kind, dir, 1),
        ...await cpu(kind, dir, 1),
        ...await cpu(kind, dir, 1),
      ]);
      const eight = kind === "idle" ? [] : await cpu(kind, dir, 8);
      print(
        `| ${label[kind]} | ${fmt(one)} | ${
          eight.length ? fmt(Math.min(...eight)) : "-"
        } | ${eight.length ? fmt(Math.max(...eight)) : "-"} |`,
      );
    }
    print();
  }

  if (part("counter")) {
    const n = quick ? 200 : 500;
    print(
      `## Contended counter: 8 processes x ${n} locked increments of one file`,
    );
    print();
    print(
      "| lock file | waiter | increments/s | lost updates | longest single wait |",
    );
    print("| --- | --- | ---: | ---: | ---: |");
    for (const made of ["created by the library", "made by another tool"]) {
      for (const kind of kinds) {
        if (made !== "created by the library" && !kind.startsWith("lib")) {
          continue; // the baselines never read the file
        }
        const path = `${dir}/count-${kind}-${made.length}.lock`;
        if (made === "made by another tool") Deno.writeTextFileSync(path, "");
        const c = await contended(
          ["counter", kind, path],
          `${path}.counter`,
          8,
          n,
        );
        print(
          `| ${kind.startsWith("lib") ? made : "-"} | ${label[kind]} | ${
            c.perSecond.toFixed(0)
          } | ${c.lost} | ${fmt(c.longest)} |`,
        );
      }
    }
    print();
  }

  if (part("loop")) {
    const rounds = quick ? 5 : 15;
    print(
      `## A waiting process against a process that loops on the lock (holds ~1 ms, takes it again at once), longest of ${rounds} waits`,
    );
    print();
    print(
      `| the loop | ${label.lib} | ${label.libt} | ${label.raw} |`,
    );
    print("| --- | ---: | ---: | ---: |");
    for (
      const pattern of ["same-job", "await", "tasks", "decorator", "write"]
    ) {
      const cells: string[] = [];
      for (const kind of ["lib", "libt", "raw"] as Kind[]) {
        const path = `${dir}/loop-${pattern}-${kind}.lock`;
        const longest = await busyLoop(kind, pattern, path, rounds);
        cells.push(longest === Infinity ? "shut out > 5 s" : fmt(longest));
      }
      print(`| ${pattern} | ${cells.join(" | ")} |`);
    }
    print();
  }
  if (part("semaphore")) await semaphoreBench(print, quick);
  if (part("weblocks")) {
    // The Web Locks managers: their own script (query, hand-off).
    const script = new URL("web_locks.ts", import.meta.url).pathname;
    const args = ["run", "-A", script, ...(quick ? ["--quick"] : [])];
    await new Deno.Command(Deno.execPath(), { args }).output().then((o) =>
      print(new TextDecoder().decode(o.stdout))
    );
  }
  await Deno.remove(dir, { recursive: true });
}

/** PostgreSQL hand-off worker: waits each time the parent says "go". */
async function pgHandoffWorker(kind: string, name: string) {
  // Warm up the client and the code.
  for (let i = 0; i < 20; i++) {
    await (await pgAcquireAs(kind, `${name}-warm`))();
  }
  say("ready");
  for await (const line of linesOf(Deno.stdin.readable)) {
    if (line !== "go") break;
    const acquiring = pgAcquireAs(kind, name);
    say("waiting");
    const release = await acquiring;
    say(`got ${now()}`);
    await release();
  }
  await pgClient?.end();
}

async function pgMain(quick: boolean) {
  const server = await pgServer();
  if (server.reason !== undefined) {
    console.log(`No PostgreSQL server: ${server.reason}`);
    Deno.exit(69);
  }
  PG_URL = server.url;
  const print = (line = "") => console.log(line);
  const label: Record<string, string> = {
    pg: "PostgresLock (waits in the server)",
    pgpoll: "baseline: polling pg_try_advisory_lock (10-100 ms)",
  };
  const run = `pg-${Date.now()}`;
  const samples = quick ? 30 : 100;
  print(`## PostgreSQL: hand-off between two processes, ${samples} samples`);
  print();
  print("| waiter | p50 | p99 | max |");
  print("| --- | ---: | ---: | ---: |");
  for (const kind of ["pg", "pgpoll"]) {
    const name = `${run}-handoff-${kind}`;
    const child = spawn(["--worker", "pghandoff", kind, name, PG_URL]);
    const lines = new Lines(child.stdout);
    await lines.next(); // "ready"
    const writer = child.stdin.getWriter();
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      const release = await pgAcquireAs("pg", name);
      await writer.write(encoder.encode("go\n"));
      await lines.next(); // "waiting"
      await sleep(15 + Math.random() * 10);
      const released = now();
      await release();
      latencies.push(Number((await lines.next()).split(" ")[1]) - released);
    }
    await writer.close();
    await child.status;
    print(
      `| ${label[kind]} | ${fmt(percentile(latencies, 50))} | ${
        fmt(percentile(latencies, 99))
      } | ${fmt(Math.max(...latencies))} |`,
    );
  }
  print();

  const rounds = quick ? 5 : 15;
  print(
    `## PostgreSQL: holder killed with SIGKILL until a waiter holds the lock, ${rounds} rounds`,
  );
  print();
  print("| waiter | p50 | max |");
  print("| --- | ---: | ---: |");
  for (const kind of ["pg", "pgpoll"]) {
    const waits: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const name = `${run}-kill-${kind}-${i}`;
      const holder = spawn(["--worker", "pghold", name, PG_URL]);
      await new Lines(holder.stdout).next(); // "held"
      const acquiring = pgAcquireAs(kind, name);
      await sleep(50 + Math.random() * 20);
      const killed = now();
      holder.kill("SIGKILL");
      const release = await acquiring;
      waits.push(now() - killed);
      await release();
      await holder.status;
      await holder.stdin.close().catch(() => {});
    }
    print(
      `| ${label[kind]} | ${fmt(percentile(waits, 50))} | ${
        fmt(Math.max(...waits))
      } |`,
    );
  }
  print();

  print("## PostgreSQL: timeout and abort, how late they settle");
  print();
  {
    const name = `${run}-late`;
    const holder = new PostgresLock(name, { sql: pgSql() });
    await holder.acquire();
    const lates: number[] = [];
    const abortLates: number[] = [];
    for (let i = 0; i < (quick ? 5 : 15); i++) {
      const lock = new PostgresLock(name, { sql: pgSql() });
      let t = performance.now();
      await lock.acquire({ timeout: 100 });
      lates.push(performance.now() - t - 100);
      const c = new AbortController();
      setTimeout(() => c.abort(), 100);
      t = performance.now();
      await lock.acquire({ signal: c.signal }).catch(() => {});
      abortLates.push(performance.now() - t - 100);
    }
    await holder.release();
    print("| what | p50 past its moment | max |");
    print("| --- | ---: | ---: |");
    print(
      `| timeout: 100 | ${fmt(percentile(lates, 50))} | ${
        fmt(Math.max(...lates))
      } |`,
    );
    print(
      `| abort after 100 ms | ${fmt(percentile(abortLates, 50))} | ${
        fmt(Math.max(...abortLates))
      } |`,
    );
  }
  print();

  print("## PostgreSQL: uncontended acquire + release, one process");
  print();
  print("| lock | per second |");
  print("| --- | ---: |");
  for (const which of ["sql", "url"]) {
    const name = `${run}-alone-${which}`;
    const ms = quick ? 1_000 : 3_000;
    let n = 0;
    const t = performance.now();
    while (performance.now() - t < ms) {
      const lock = which === "sql"
        ? new PostgresLock(name, { sql: pgSql() })
        : new PostgresLock(name, { url: PG_URL });
      await lock.acquire();
      await lock.release();
      n++;
    }
    print(
      `| PostgresLock with ${
        which === "sql"
          ? "a client of its own process (sql)"
          : "its own sessions, reused for 1 s (url)"
      } | ${(n / ((performance.now() - t) / 1000)).toFixed(0)} |`,
    );
  }
  print();

  const n = quick ? 50 : 150;
  print(`## PostgreSQL: 8 processes x ${n} locked increments of one file`);
  print();
  print("| waiter | increments/s | lost updates | longest single wait |");
  print("| --- | ---: | ---: | ---: |");
  const dir = await Deno.makeTempDir({ prefix: "process-lock-bench-" });
  for (const kind of ["pg", "pgpoll"]) {
    const c = await contended(
      ["pgcounter", kind, `${run}-count-${kind}`, PG_URL],
      `${dir}/${kind}.counter`,
      8,
      n,
    );
    print(
      `| ${label[kind]} | ${c.perSecond.toFixed(0)} | ${c.lost} | ${
        fmt(c.longest)
      } |`,
    );
  }
  print();
  await Deno.remove(dir, { recursive: true });
  await pgClient?.end();
  await closeIdleSessions();
  await pgFailures(PG_URL, print, quick);
}

if (Deno.args[0] === "--worker") {
  const [, role, ...rest] = Deno.args;
  if (role.startsWith("pg")) {
    PG_URL = rest.at(role === "pgcounter" ? 2 : role === "pghold" ? 1 : 2)!;
  }
  if (role === "pghandoff") await pgHandoffWorker(rest[0], rest[1]);
  else if (role === "pgcounter") {
    const [kind, name, , counter, n] = rest;
    await counterWorker(
      () => pgAcquireAs(kind, name),
      () => pgAcquireAs(kind, `${name}-warm`),
      20,
      counter,
      Number(n),
    );
    await pgClient?.end();
  } else if (role === "pghold") {
    const lock = new PostgresLock(rest[0], { url: PG_URL });
    await lock.acquire();
    say("held");
    setInterval(() => {}, 1_000); // until killed
  } else if (role === "handoff") await handoffWorker(rest[0] as Kind, rest[1]);
  else if (role === "counter") {
    const [kind, path, counter, n] = rest;
    await counterWorker(
      () => acquireAs(kind as Kind, path),
      () => acquireAs(kind as Kind, `${path}.warm`),
      500,
      counter,
      Number(n),
    );
  } else if (role === "cpu") await cpuWorker(rest[0] as Kind, rest[1]);
  else if (role === "loop") await loopWorker(rest[0], rest[1]);
  else if (role === "hold") {
    const file = Deno.openSync(rest[0], OPEN);
    file.lockSync(true);
    say("held");
    setInterval(() => {}, 1_000); // until killed
  }
} else if (Deno.args.includes("--postgres")) {
  await pgMain(Deno.args.includes("--quick"));
} else {
  await main();
}
