// The PostgreSQL lease under failure and its cost, for `deno task bench
// --postgres`: a stalled middlebox and (as root) a silent partition, a
// connect that cannot complete, and what a heartbeat costs a long hold.
import process from "node:process";
import {
  closeIdleSessions,
  PostgresLock,
  PostgresSemaphore,
} from "../postgres/mod.ts";
import { Proxy, SilentPeer } from "../tests/_proxy.ts";

type Print = (line?: string) => void;

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function upstreamOf(url: string) {
  const u = new URL(url);
  return { hostname: u.hostname, port: Number(u.port || 5432) };
}

/** One stalled-middlebox run: when the holder knew, when another acquired. */
async function stallRun(url: string, lease: number, name: string) {
  await using proxy = new Proxy(upstreamOf(url));
  const a = new PostgresLock(name, { url: proxy.urlFor(url), lease });
  const b = new PostgresLock(name, { url });
  await a.acquire();
  let lostAt = Infinity;
  a.signal.addEventListener("abort", () => lostAt = performance.now());
  // A random phase against the heartbeat.
  await new Promise((r) => setTimeout(r, Math.random() * lease / 3));
  const stalledAt = performance.now();
  proxy.stall();
  await b.acquire({ timeout: lease * 3 });
  const acquiredAt = performance.now();
  await b.release();
  await a.release();
  await closeIdleSessions();
  return { margin: acquiredAt - lostAt, free: acquiredAt - stalledAt };
}

/** The partition fixture, as root in a private network namespace. */
async function partitionRun(): Promise<
  { marginMs: number; freeAfterMs: number; releaseMs: number } | undefined
> {
  if (Deno.uid() !== 0) return undefined;
  const fixture = new URL("../tests/fixtures/partition.ts", import.meta.url);
  const out = await new Deno.Command("unshare", {
    args: [
      "--net",
      "--",
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      fixture.pathname,
    ],
    env: { DATABASE_URL: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) return undefined;
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!);
}

/** Prints the margins of the lease under a stall and a partition. */
async function leaseMargins(url: string, print: Print, runs: number) {
  const lease = 4_000;
  print(
    `## PostgreSQL: lost-lock margin, lease ${lease} ms, ${runs} runs each`,
  );
  print();
  print(
    "Margin: another client acquires minus the holder knows (must be > 0). " +
      "Free: from the failure to another client's grant.",
  );
  print();
  print("| failure | margin min | margin p50 | free p50 | free max |");
  print("| --- | ---: | ---: | ---: | ---: |");
  const stalls = [];
  for (let i = 0; i < runs; i++) {
    stalls.push(await stallRun(url, lease, `bench-stall-${Date.now()}-${i}`));
  }
  const row = (what: string, margins: number[], frees: number[]) =>
    print(
      `| ${what} | ${fmt(Math.min(...margins))} | ${fmt(median(margins))} | ${
        fmt(median(frees))
      } | ${fmt(Math.max(...frees))} |`,
    );
  row(
    "stalled proxy (TCP alive, nothing forwarded)",
    stalls.map((s) => s.margin),
    stalls.map((s) => s.free),
  );
  const partitions = [];
  for (let i = 0; i < runs; i++) {
    const run = await partitionRun();
    if (run === undefined) break;
    partitions.push(run);
  }
  if (partitions.length === runs) {
    row(
      "packets dropped both ways (tc, netns; lease 3000 ms)",
      partitions.map((p) => p.marginMs),
      partitions.map((p) => p.freeAfterMs),
    );
    print();
    print(
      `release() during the partition: p50 ${
        fmt(median(partitions.map((p) => p.releaseMs)))
      } (bound: min(lease, 5 s) = 3000 ms)`,
    );
  } else {
    print(
      "| packets dropped both ways | not run: needs root, unshare, tc | | | |",
    );
  }
  print();
}

/** Prints how fast calls settle against a peer that never answers. */
async function silentConnect(print: Print, runs: number) {
  print(`## PostgreSQL: connect to a peer that never answers, ${runs} runs`);
  print();
  await using peer = new SilentPeer();
  const lock = new PostgresLock("bench-silent", {
    url: `postgres://app@127.0.0.1:${peer.port}/app`,
  });
  const timeouts: number[] = [];
  const aborts: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await lock.acquire({ timeout: 1_000 }).catch(() => {});
    timeouts.push(performance.now() - t);
    const c = new AbortController();
    setTimeout(() => c.abort(), 500);
    t = performance.now();
    await lock.acquire({ signal: c.signal }).catch(() => {});
    aborts.push(performance.now() - t - 500);
  }
  print("| call | p50 | max | target |");
  print("| --- | ---: | ---: | ---: |");
  print(
    `| timeout: 1000, throws after | ${fmt(median(timeouts))} | ${
      fmt(Math.max(...timeouts))
    } | < 1200 ms |`,
  );
  print(
    `| abort at 500 ms, settles after the abort | ${fmt(median(aborts))} | ${
      fmt(Math.max(...aborts))
    } | < 100 ms |`,
  );
  print();
}

/** A hold of `seconds` in a child: its CPU, and the bytes through a proxy. */
async function holdCost(url: string, lease: number, seconds: number) {
  await using proxy = new Proxy(upstreamOf(url));
  const self = new URL(import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      self,
      "--hold",
      proxy.urlFor(url),
      String(lease),
      String(seconds),
    ],
    stdout: "piped",
  }).output();
  const { cpuMs } = JSON.parse(new TextDecoder().decode(out.stdout));
  return { cpuMs, bytes: proxy.bytes.up + proxy.bytes.down };
}

/** Prints the cost of the heartbeat over a long hold. */
async function heartbeatCost(url: string, print: Print, seconds: number) {
  print(`## PostgreSQL: the cost of holding a lock for ${seconds} s`);
  print();
  print(
    "CPU of the holding process while it holds (after the grant), and the " +
      "bytes of its connection both ways. Baseline: a lease of 1 hour (no " +
      "heartbeat within the hold).",
  );
  print();
  print("| lease | heartbeats expected | CPU | bytes |");
  print("| --- | ---: | ---: | ---: |");
  const cases = [3_600_000, 25_000, 3_000];
  const results = await Promise.all(
    cases.map((lease) => holdCost(url, lease, seconds)),
  );
  cases.forEach((lease, i) => {
    const beats = Math.floor(seconds * 1000 / (lease / 3));
    print(
      `| ${
        lease === 3_600_000 ? "1 h (baseline)" : `${lease} ms`
      } | ${beats} | ${fmt(results[i].cpuMs)} | ${results[i].bytes} |`,
    );
  });
  print();
}

/**
 * Hand-off within one process, `samples` times: everything held (the lock,
 * or both slots), a waiter queued, one released; from the release to the
 * waiter's grant.
 */
async function handoffs(url: string, semaphore: boolean, samples: number) {
  const name = `bench-handoff-${semaphore}-${Date.now()}`;
  const make = () =>
    semaphore
      ? new PostgresSemaphore(name, { url, slots: 2 })
      : new PostgresLock(name, { url });
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const held = semaphore ? [make(), make()] : [make()];
    for (const lock of held) await lock.acquire();
    const waiter = make();
    const waiting = waiter.acquire();
    await new Promise((r) => setTimeout(r, 30 + Math.random() * 10));
    const released = performance.now();
    await held[0].release();
    await waiting;
    latencies.push(performance.now() - released);
    for (const lock of [...held.slice(1), waiter]) await lock.release();
  }
  await closeIdleSessions();
  return latencies;
}

/** Prints the semaphore's hand-off beside the lock's. */
async function semaphoreHandoff(url: string, print: Print, samples: number) {
  print(
    `## PostgreSQL: semaphore (2 slots) hand-off beside the lock's, ${samples} samples`,
  );
  print();
  print(
    "One process, `url` sessions: everything held, a waiter queued (for the semaphore: in the server on every slot), one released; from the release call to the waiter's grant.",
  );
  print();
  print("| lock | p50 | max |");
  print("| --- | ---: | ---: |");
  for (const semaphore of [false, true]) {
    const latencies = await handoffs(url, semaphore, samples);
    print(
      `| ${semaphore ? "PostgresSemaphore, 2 slots" : "PostgresLock"} | ${
        fmt(median(latencies))
      } | ${fmt(Math.max(...latencies))} |`,
    );
  }
  print();
}

/** Every section of this file. */
export async function pgFailures(
  url: string,
  print: Print,
  quick: boolean,
): Promise<void> {
  await leaseMargins(url, print, quick ? 2 : 5);
  await silentConnect(print, quick ? 3 : 10);
  await semaphoreHandoff(url, print, quick ? 10 : 30);
  await heartbeatCost(url, print, quick ? 10 : 60);
}

if (Deno.args[0] === "--hold") {
  const [, url, lease, seconds] = Deno.args;
  // Each child holds a lock of its own name.
  const lock = new PostgresLock(`bench-hold-cost-${lease}`, {
    url,
    lease: Number(lease),
  });
  await lock.acquire();
  const before = process.cpuUsage();
  await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
  const used = process.cpuUsage(before);
  console.log(JSON.stringify({ cpuMs: (used.user + used.system) / 1000 }));
  await lock.release();
}

if (Deno.args[0] === "--semaphore") {
  // Only the semaphore's hand-off: deno run -A bench/pg_failures.ts --semaphore
  const { pgServer } = await import("../tests/_pg_server.ts");
  const { url } = await pgServer();
  await semaphoreHandoff(url, (line = "") => console.log(line), 30);
}
