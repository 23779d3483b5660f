// Copyright 2026 the @locks/process-lock authors. MIT license.
/**
 * A cache directory shared by many readers and one refresher, with a
 * readers-writer lock: readers read at the same time; the refresher rewrites
 * the cache alone, so no reader ever sees it half-written.
 *
 *   deno run --allow-read --allow-write examples/shared_cache.ts read <cacheDir>
 *   deno run --allow-read --allow-write examples/shared_cache.ts refresh <cacheDir>
 *
 * @module
 */
import { InterProcessReaderWriterLock } from "../mod.ts";

const [mode = "read", cacheDir = "/tmp/example-cache"] = Deno.args;
const rw = new InterProcessReaderWriterLock(`${cacheDir}/.lock`);

async function refresh(): Promise<void> {
  await using _ = await rw.writeLock({ timeout: 30_000 });
  // Several files that must agree with each other.
  const version = Date.now();
  Deno.writeTextFileSync(`${cacheDir}/version`, String(version));
  Deno.writeTextFileSync(`${cacheDir}/data.json`, JSON.stringify({ version }));
  console.log(`refreshed to ${version}`);
}

async function read(): Promise<void> {
  {
    await using _ = await rw.readLock({ timeout: 30_000 });
    try {
      const version = Number(Deno.readTextFileSync(`${cacheDir}/version`));
      const data = JSON.parse(Deno.readTextFileSync(`${cacheDir}/data.json`));
      console.log(
        data.version === version ? `read ${version}` : "INCONSISTENT CACHE",
      );
      return;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  // Empty cache: fill it (under the write lock), then read again.
  await refresh();
  await read();
}

if (mode === "refresh") await refresh();
else await read();
