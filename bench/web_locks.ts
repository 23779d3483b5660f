// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * The Web Locks managers across processes, each figure beside a baseline
 * of the same run: `query()` while 10 processes hold 10 locks each (beside
 * reading the same 10 request files raw), and the hand-off between two
 * processes with `request()` (beside `InterProcessLock`).
 *
 *   deno run -A bench/web_locks.ts [--quick]
 *
 * @module
 */
import { FileLockManager, InterProcessLock } from "../mod.ts";

const SELF = new URL(import.meta.url).pathname;
const now = () => performance.timeOrigin + performance.now();
const say = (line: string) =>
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

function spawn(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SELF, ...args],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
}

async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) text += (await reader.read()).value ?? "";
  reader.releaseLock();
  return text.trim();
}

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];
const ms = (x: number) => `${x.toFixed(2)} ms`;

/** Worker: holds `count` locks in `dir` until its stdin closes. */
async function holdMany(dir: string, count: number) {
  const locks = new FileLockManager({ dir });
  const { promise, resolve } = Promise.withResolvers<void>();
  let granted = 0;
  for (let i = 0; i < count; i++) {
    locks.request(`${Deno.pid}-${i}`, () => {
      if (++granted === count) say("held");
      return promise;
    });
  }
  for await (const _ of Deno.stdin.readable) { /* until closed */ }
  resolve();
}

/** Worker: on each line of stdin, waits for the lock and says when it got
 * it, then lets it go at once. */
async function waitEach(dir: string, kind: string) {
  const locks = new FileLockManager({ dir });
  const lock = new InterProcessLock(`${dir}/baseline.lock`);
  say("ready");
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  for await (const _ of lines) {
    if (kind === "request") {
      await locks.request("handoff", () => say(String(now())));
    } else {
      await lock.acquire();
      say(String(now()));
      lock.release();
    }
  }
}

async function queryBench(dir: string, samples: number) {
  const holders = Array.from({ length: 10 }, () => spawn(["--hold", dir]));
  for (const h of holders) await firstLine(h);
  await new Promise((r) => setTimeout(r, 50)); // their request files
  const locks = new FileLockManager({ dir });
  const query: number[] = [];
  const raw: number[] = [];
  let listed = 0;
  for (let i = 0; i < samples; i++) {
    let t = performance.now();
    listed = (await locks.query()).held.length;
    query.push(performance.now() - t);
    t = performance.now();
    for (const entry of Deno.readDirSync(`${dir}/.clients`)) {
      JSON.parse(Deno.readTextFileSync(`${dir}/.clients/${entry.name}`));
    }
    raw.push(performance.now() - t);
  }
  for (const h of holders) {
    await h.stdin.close();
    await h.status;
  }
  say(`## query() with 100 locks held by 10 processes, ${samples} samples`);
  say("");
  say("| what | p50 | p99 |");
  say("| --- | ---: | ---: |");
  say(
    `| baseline: read the 10 request files raw | ${ms(quantile(raw, 0.5))} | ${
      ms(quantile(raw, 0.99))
    } |`,
  );
  say(
    `| FileLockManager query() (${listed} held listed) | ${
      ms(quantile(query, 0.5))
    } | ${ms(quantile(query, 0.99))} |`,
  );
  say("");
}

async function handoffBench(dir: string, samples: number) {
  say(`## hand-off between two processes, ${samples} samples`);
  say("");
  say("| waiter | p50 | p99 |");
  say("| --- | ---: | ---: |");
  for (const kind of ["acquire", "request"]) {
    const child = spawn(["--wait", dir, kind]);
    const writer = child.stdin.getWriter();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let buffer = "";
    const line = async () => {
      while (!buffer.includes("\n")) buffer += (await reader.read()).value;
      const i = buffer.indexOf("\n");
      const l = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      return l;
    };
    await line(); // ready
    const locks = new FileLockManager({ dir });
    const lock = new InterProcessLock(`${dir}/baseline.lock`);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      let released = 0;
      const hold = async () => {
        await writer.write(new TextEncoder().encode("go\n"));
        await new Promise((r) => setTimeout(r, 20));
        released = now();
      };
      if (kind === "request") await locks.request("handoff", hold);
      else {
        await lock.acquire();
        await hold();
        lock.release();
      }
      times.push(Number(await line()) - released);
      await new Promise((r) => setTimeout(r, 5));
    }
    await writer.close();
    await reader.cancel();
    await child.status;
    const label = kind === "request"
      ? "FileLockManager request()"
      : "baseline: InterProcessLock acquire()/release()";
    say(
      `| ${label} | ${ms(quantile(times, 0.5))} | ${
        ms(quantile(times, 0.99))
      } |`,
    );
  }
  say("");
  say("(navigator.locks coordinates one process only: no row.)");
}

if (Deno.args[0] === "--hold") await holdMany(Deno.args[1], 10);
else if (Deno.args[0] === "--wait") await waitEach(Deno.args[1], Deno.args[2]);
else {
  const quick = Deno.args.includes("--quick");
  const dir = Deno.makeTempDirSync({ prefix: "process-lock-bench-" });
  try {
    await queryBench(`${dir}/q`, quick ? 10 : 50);
    await handoffBench(`${dir}/h`, quick ? 30 : 100);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
