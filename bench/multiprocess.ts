// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * Multi-process benchmarks: hand-off latency, SIGKILL recovery, contended
 * throughput with the lost-update check, fairness (longest single wait) and
 * the CPU a blocked waiter burns. Every figure for this library stands beside
 * baselines measured in the same run: a raw blocking `FsFile.lock()` waiter
 * and a fasteners-style polling waiter (`tryLockSync`, sleeping 10 ms more
 * per failed try up to 100 ms).
 *
 *   deno task bench                     (the full run, about a minute)
 *   deno task bench --quick             (fewer samples)
 *   deno task bench --contended-only    (only the 8-process counter)
 *   deno task bench --cpu-only          (only the blocked waiter's CPU)
 *   deno task bench --kill-only         (only the SIGKILLed holder, 30 rounds)
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { InterProcessLock } from "../mod.ts";

type Kind = "lib" | "raw" | "poll" | "idle";
const OPEN: Deno.OpenOptions = { read: true, write: true, create: true };
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const encoder = new TextEncoder();
const say = (line: string) =>
  Deno.stdout.writeSync(encoder.encode(line + "\n"));

/** A waiter of the given kind: resolves once the lock is held. */
async function acquireAs(kind: Kind, path: string): Promise<() => void> {
  if (kind === "lib") {
    const lock = new InterProcessLock(path);
    await lock.acquire();
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

/** Increments the counter n times under the lock; reports its waits. */
async function counterWorker(
  kind: Kind,
  path: string,
  counter: string,
  n: number,
) {
  let longest = 0;
  // The counter is rewritten in place (read, then write at offset 0): ext4
  // flushes a file that is truncated and rewritten (writeTextFileSync) on
  // close, which costs about 0.3 ms and would measure ext4, not the lock.
  const file = Deno.openSync(counter, { read: true, write: true });
  const bytes = new Uint8Array(COUNTER_WIDTH);
  // Warm up (the first call of any code pays for compiling it), then start
  // with the others: the parent says "go" once every worker is ready.
  for (let i = 0; i < 3; i++) (await acquireAs(kind, `${path}.warm`))();
  say("ready");
  const lines = linesOf(Deno.stdin.readable);
  await lines.next();
  const start = now();
  for (let i = 0; i < n; i++) {
    const t = now();
    const release = await acquireAs(kind, path);
    longest = Math.max(longest, now() - t);
    file.seekSync(0, Deno.SeekMode.Start);
    const got = file.readSync(bytes) ?? 0;
    const value = Number(new TextDecoder().decode(bytes.subarray(0, got)));
    file.seekSync(0, Deno.SeekMode.Start);
    file.writeSync(counterBytes(value + 1));
    release();
  }
  file.close();
  say(JSON.stringify({ longest, elapsed: now() - start }));
}

/** Waits for a lock that is held for `ms`, then reports its CPU time. */
async function cpuWorker(kind: Kind, path: string) {
  // Warm up: the first call of any code pays for compiling it, so wait a
  // little for a held lock (and so run the waiting code) a few times.
  for (let i = 0; i < 3; i++) {
    const first = await acquireAs(kind, `${path}.warm`);
    const second = acquireAs(kind, `${path}.warm`);
    await sleep(30);
    first();
    (await second)();
  }
  // V8 keeps compiling and collecting for a while after start-up: let that
  // settle, or the idle baseline alone reads about 5 ms instead of about 1.
  await sleep(1000);
  say("ready");
  const before = cpuUsage();
  if (kind === "idle") {
    await sleep(2000);
    const used = cpuUsage(before);
    say(String((used.user + used.system) / 1000));
    return;
  }
  const release = await acquireAs(kind, path);
  const used = cpuUsage(before);
  release();
  say(String((used.user + used.system) / 1000));
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

const fmt = (ms: number) =>
  ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;

async function uncontended(dir: string, seconds: number) {
  const rawPath = `${dir}/raw.lock`;
  const lock = new InterProcessLock(`${dir}/lib.lock`);
  const rates = {
    raw: [] as number[],
    checked: [] as number[],
    lib: [] as number[],
  };
  // Interleave short rounds so that both see the same machine.
  for (let round = 0; round < 6; round++) {
    let n = 0;
    let t = performance.now();
    while (performance.now() - t < (seconds * 1000) / 6) {
      for (let i = 0; i < 100; i++) {
        const f = Deno.openSync(rawPath, OPEN);
        f.tryLockSync(true);
        f.unlockSync();
        f.close();
      }
      n += 100;
    }
    rates.raw.push(n / ((performance.now() - t) / 1000));
    n = 0;
    t = performance.now();
    while (performance.now() - t < (seconds * 1000) / 6) {
      for (let i = 0; i < 100; i++) {
        const f = Deno.openSync(rawPath, OPEN);
        f.tryLockSync(true);
        const a = f.statSync();
        const b = Deno.statSync(rawPath);
        if (a.ino !== b.ino) throw new Error("replaced");
        f.unlockSync();
        f.close();
      }
      n += 100;
    }
    rates.checked.push(n / ((performance.now() - t) / 1000));
    n = 0;
    t = performance.now();
    while (performance.now() - t < (seconds * 1000) / 6) {
      for (let i = 0; i < 100; i++) {
        await lock.acquire();
        lock.release();
      }
      n += 100;
    }
    rates.lib.push(n / ((performance.now() - t) / 1000));
  }
  const median = (v: number[]) => percentile(v, 50);
  return {
    raw: median(rates.raw),
    checked: median(rates.checked),
    lib: median(rates.lib),
  };
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

async function contended(
  kind: Kind,
  dir: string,
  processes: number,
  n: number,
) {
  const path = `${dir}/count-${kind}-${processes}.lock`;
  const counter = `${dir}/count-${kind}-${processes}`;
  Deno.writeFileSync(counter, counterBytes(0));
  const start = now();
  const children = Array.from(
    { length: processes },
    () => spawn(["--worker", "counter", kind, path, counter, String(n)]),
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
  const elapsed = now() - start;
  const final = Number(Deno.readTextFileSync(counter));
  const work = Math.max(...reports.map((r) => r.elapsed));
  return {
    perSecond: (processes * n) / (work / 1000),
    lost: processes * n - final,
    longest: Math.max(...reports.map((r) => r.longest)),
    elapsed,
  };
}

/**
 * The CPU time of a waiter of `kind` while the lock is held for 2 s, by a
 * raw holder (`tryLockSync` on a plain file), or by this library.
 */
async function cpu(kind: Kind, dir: string, holder: "raw" | "lib" = "raw") {
  const path = `${dir}/cpu-${kind}-${holder}.lock`;
  let release: () => void;
  if (holder === "lib") {
    const lock = new InterProcessLock(path);
    await lock.acquire();
    release = () => lock.release();
  } else {
    const file = Deno.openSync(path, OPEN);
    file.tryLockSync(true);
    release = () => {
      file.unlockSync();
      file.close();
    };
  }
  const child = spawn(["--worker", "cpu", kind, path]);
  child.stdin.close();
  const lines = new Lines(child.stdout);
  await lines.next(); // "ready"
  await sleep(2000);
  release();
  const used = Number(await lines.next());
  await child.status;
  return used;
}

/** CPU that Deno spends to deliver one watch event to a watching process. */
async function watchCost(dir: string, events: number) {
  const path = `${dir}/events.lock`;
  Deno.writeTextFileSync(path, "");
  const child = spawn(["--worker", "watch", path, String(events)]);
  child.stdin.close();
  const lines = new Lines(child.stdout);
  await lines.next(); // "ready"
  for (let i = 0; i < events; i++) {
    Deno.openSync(path, { write: true }).close();
    await sleep(1);
  }
  const perEvent = Number(await lines.next());
  await child.status;
  return perEvent;
}

async function main() {
  const quick = Deno.args.includes("--quick");
  const dir = await Deno.makeTempDir({ prefix: "process-lock-bench-" });
  const kinds: Kind[] = ["lib", "raw", "poll"];
  const label = {
    lib: "@locks/process-lock, default options",
    raw: "raw blocking FsFile.lock() waiter",
    poll: "fasteners-style polling (10-100 ms)",
    idle: "baseline: a process sleeping 2 s, no lock",
  };
  const out: string[] = [];
  const print = (line = "") => {
    out.push(line);
    console.log(line);
  };

  if (Deno.args.includes("--cpu-only")) {
    for (const kind of [...kinds, "idle"] as Kind[]) {
      console.log(kind, fmt(await cpu(kind, dir)));
      if (kind === "lib") {
        console.log("lib, lib holder", fmt(await cpu(kind, dir, "lib")));
      }
    }
    return;
  }
  if (Deno.args.includes("--kill-only")) {
    for (const kind of kinds) {
      const k = await sigkill(kind, dir, quick ? 10 : 30);
      console.log(kind, "p50", fmt(k.p50), "max", fmt(k.max));
    }
    return;
  }
  if (Deno.args.includes("--contended-only")) {
    for (const kind of kinds) {
      const c = await contended(kind, dir, 8, quick ? 200 : 500);
      console.log(
        kind,
        c.perSecond.toFixed(0),
        "/s, lost",
        c.lost,
        ", longest wait",
        fmt(c.longest),
      );
    }
    return;
  }
  const u = await uncontended(dir, quick ? 1.5 : 6);
  print("## Uncontended acquire+release, one process");
  print();
  print("| loop | per second | vs raw |");
  print("| --- | ---: | ---: |");
  print(
    `| raw openSync + tryLockSync + unlockSync + close | ${
      u.raw.toFixed(0)
    } | 1.00x |`,
  );
  print(
    `| raw, plus the unlink check (fstat + stat after locking) | ${
      u.checked.toFixed(0)
    } | ${(u.checked / u.raw).toFixed(2)}x |`,
  );
  print(
    `| InterProcessLock: await acquire() + release() | ${u.lib.toFixed(0)} | ${
      (u.lib / u.raw).toFixed(2)
    }x |`,
  );
  print();

  const samples = quick ? 40 : 200;
  print(
    `## Cross-process hand-off (holder releases, waiter holds), ${samples} samples`,
  );
  print();
  print("| waiter | p50 | p99 | max |");
  print("| --- | ---: | ---: | ---: |");
  for (const kind of kinds) {
    const h = await handoff(
      kind,
      dir,
      kind === "poll" ? Math.min(samples, 60) : samples,
    );
    print(`| ${label[kind]} | ${fmt(h.p50)} | ${fmt(h.p99)} | ${fmt(h.max)} |`);
  }
  print();

  const rounds = quick ? 3 : 10;
  print(
    `## Holder killed with SIGKILL: until a waiter holds the lock, ${rounds} rounds`,
  );
  print();
  print("| waiter | p50 | max |");
  print("| --- | ---: | ---: |");
  for (const kind of kinds) {
    const k = await sigkill(kind, dir, rounds);
    print(`| ${label[kind]} | ${fmt(k.p50)} | ${fmt(k.max)} |`);
  }
  print();

  const n = quick ? 200 : 500;
  print(
    `## Contended counter: N processes x ${n} locked increments of one file`,
  );
  print();
  print(
    "| processes | waiter | increments/s | lost updates | longest single wait |",
  );
  print("| ---: | --- | ---: | ---: | ---: |");
  for (const processes of [2, 8]) {
    for (const kind of kinds) {
      const c = await contended(kind, dir, processes, n);
      print(
        `| ${processes} | ${label[kind]} | ${
          c.perSecond.toFixed(0)
        } | ${c.lost} | ${fmt(c.longest)} |`,
      );
    }
  }
  // The ceiling: one process doing all the increments alone, nobody to hand
  // the lock to. No locking scheme gets 8 processes past it.
  const alone = await contended("raw", dir, 1, 8 * n);
  print(
    `| 1 | ceiling: one process alone, ${8 * n} increments (raw lock) | ${
      alone.perSecond.toFixed(0)
    } | ${alone.lost} | - |`,
  );
  print();

  const events = quick ? 300 : 1000;
  print(`## The cost of a file-system event, ${events} events`);
  print();
  print("| what | CPU per event |");
  print("| --- | ---: |");
  print(
    `| a process that only watches the lock file (Deno.watchFs), per close event delivered | ${
      fmt(await watchCost(dir, events))
    } |`,
  );
  print();

  print("## CPU time burnt by a waiter blocked for 2 s (after a warm-up)");
  print();
  print("| waiter | CPU time |");
  print("| --- | ---: |");
  for (const kind of [...kinds, "idle"] as Kind[]) {
    if (kind === "lib") {
      print(
        `| ${label[kind]}, holder of this library | ${
          fmt(await cpu(kind, dir, "lib"))
        } |`,
      );
      print(
        `| ${label[kind]}, raw holder (tryLockSync on a plain file) | ${
          fmt(await cpu(kind, dir))
        } |`,
      );
      continue;
    }
    print(`| ${label[kind]} | ${fmt(await cpu(kind, dir))} |`);
  }
  await Deno.remove(dir, { recursive: true });
}

if (Deno.args[0] === "--worker") {
  const [, role, ...rest] = Deno.args;
  if (role === "handoff") await handoffWorker(rest[0] as Kind, rest[1]);
  else if (role === "counter") {
    await counterWorker(rest[0] as Kind, rest[1], rest[2], Number(rest[3]));
  } else if (role === "cpu") await cpuWorker(rest[0] as Kind, rest[1]);
  else if (role === "watch") {
    const watcher = Deno.watchFs(rest[0], { recursive: false });
    const expected = Number(rest[1]);
    const before = cpuUsage();
    say("ready");
    let seen = 0;
    for await (const _ of watcher) if (++seen >= expected) break;
    const used = cpuUsage(before);
    say(String((used.user + used.system) / 1000 / seen));
  } else if (role === "hold") {
    const file = Deno.openSync(rest[0], OPEN);
    file.lockSync(true);
    say("held");
    setInterval(() => {}, 1_000); // until killed
  }
} else {
  await main();
}
