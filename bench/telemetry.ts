// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * The cost of OpenTelemetry: uncontended acquire + release with it off and
 * on (exported to a receiver on loopback that discards), each beside a raw
 * loop of the same run (open, try, unlock, close).
 *
 *   deno run -A bench/telemetry.ts
 *
 * @module
 */
import { InterProcessLock } from "../mod.ts";

const ROUNDS = 7;
const N = 5_000;

/** Child: median µs per operation of the raw loop and of the lock. */
async function measure(dir: string): Promise<void> {
  const raw = `${dir}/raw.lock`;
  const lock = new InterProcessLock(`${dir}/lib.lock`);
  const OPEN = { read: true, write: true, create: true };
  const rawTimes: number[] = [];
  const libTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    for (let i = 0; i < N; i++) {
      const file = Deno.openSync(raw, OPEN);
      file.tryLockSync(true);
      file.unlockSync();
      file.close();
    }
    rawTimes.push((performance.now() - t) * 1000 / N);
    t = performance.now();
    for (let i = 0; i < N; i++) {
      await lock.acquire();
      lock.release();
    }
    libTimes.push((performance.now() - t) * 1000 / N);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  console.log(JSON.stringify({ raw: median(rawTimes), lib: median(libTimes) }));
}

async function main(): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "process-lock-bench-" });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => (await req.arrayBuffer(), Response.json({})),
  );
  const run = async (env: Record<string, string>) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, "--child", dir],
      env,
    }).output();
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  const on = {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
  };
  console.log(
    "| OpenTelemetry | raw loop (baseline) | acquire + release | ratio |",
  );
  console.log("| --- | ---: | ---: | ---: |");
  for (
    const [label, env] of [["off", {}], ["on", on], ["off", {}], [
      "on",
      on,
    ]] as const
  ) {
    const { raw, lib } = await run(env);
    console.log(
      `| ${label} | ${raw.toFixed(1)} µs | ${lib.toFixed(1)} µs | ${
        (lib / raw).toFixed(2)
      }x |`,
    );
  }
  await server.shutdown();
  Deno.removeSync(dir, { recursive: true });
}

if (Deno.args[0] === "--child") await measure(Deno.args[1]);
else await main();
