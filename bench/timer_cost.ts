// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * What a timer wake-up costs a Deno process, for reading the "CPU burnt while
 * blocked" figures: CPU over 2 s of an idle process, and of processes that
 * only sleep in a loop of setTimeout(ms).
 *
 *   deno run bench/timer_cost.ts
 *
 * @module
 */
import { cpuUsage } from "node:process";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(ms: number | undefined): Promise<string> {
  await sleep(300);
  const before = cpuUsage();
  let wakes = 0;
  if (ms === undefined) {
    await sleep(2000);
  } else {
    const end = performance.now() + 2000;
    while (performance.now() < end) {
      await sleep(ms);
      wakes++;
    }
  }
  const used = cpuUsage(before);
  const cpu = (used.user + used.system) / 1000;
  return `| ${
    ms === undefined ? "idle (one 2 s timer)" : `setTimeout(${ms}) loop`
  } | ${wakes} | ${cpu.toFixed(1)} ms |`;
}

console.log("| 2 s of | wake-ups | CPU |");
console.log("| --- | ---: | ---: |");
for (const ms of [undefined, 100, 50, 10]) console.log(await measure(ms));
