// Copyright 2026 the @locks/process-lock authors. MIT license.
// Lock files as the backend of FileLockManager: one lock file per name in
// one directory, and each manager's requests in a file of its own there
// (`.clients/`), locked while its manager lives, for `query()`.

import { createHash } from "node:crypto";
import { fileBackend } from "./_backend.ts";
import { closeLockFile, tryLockFile } from "./_lock_file.ts";
import type { ResolvedLockOptions } from "./_options.ts";
import type { ManagerBackend } from "../_core/_backend.ts";
import type { Backend } from "../_core/_backend.ts";
import type { LockInfo, LockSnapshot } from "../_core/web_locks.ts";
import { resolveAcquireOptions } from "../_core/_options.ts";

/** The folder of the managers' request files, inside the lock directory. */
const CLIENTS = ".clients";
/** How long (ms) a change of a manager's requests may wait to be written:
 * a request that ends sooner costs no write at all. */
const PUBLISH_MS = 5;
/** How many names' lock files a manager keeps at hand. */
const MAX_KEPT = 256;
/** How many of a name's characters the file name keeps, for people. */
const READABLE_CHARS = 40;

/**
 * The default lock directory: one per user on this host.
 *
 * @throws {TypeError} When the user id cannot be read, naming the fix.
 */
export function defaultLockDir(): string {
  if (Deno.build.os === "windows") {
    return `${Deno.env.get("TEMP") ?? "C:\\Windows\\Temp"}\\process-lock`;
  }
  let uid: number | null;
  try {
    uid = Deno.uid();
  } catch {
    throw new TypeError(
      'The default directory of FileLockManager is per user: run with --allow-sys=uid, or pass the option "dir"',
    );
  }
  return `/tmp/process-lock-${uid ?? "user"}`;
}

/**
 * The lock file of `name` in `dir`: its first characters for people, then
 * a hash of every UTF-16 code unit, so that two names never share a file
 * (case, `/`, `..`, NUL and length included) and none leaves `dir`.
 */
export function lockFileOf(dir: string, name: string): string {
  const readable = name.slice(0, READABLE_CHARS).replace(/[^\w-]/g, "_");
  const hash = createHash("sha256").update(name, "utf16le").digest("hex");
  return `${dir}/${readable}.${hash.slice(0, 32)}.lock`;
}

/** Lock files in `dir` as a manager's backend; `clientId` names it. */
export function fileManagerBackend(
  dir: string,
  clientId: string,
  lockOptions: ResolvedLockOptions,
): ManagerBackend<Deno.FsFile> {
  const requests = new RequestsFile(dir, clientId);
  const backends = new Map<string, Backend<Deno.FsFile, void>>();
  return {
    lockOf(name) {
      let backend = backends.get(name);
      if (backend === undefined) {
        if (backends.size >= MAX_KEPT) backends.clear();
        backend = fileBackend(lockFileOf(dir, name), lockOptions);
        backends.set(name, backend);
      }
      return backend;
    },
    tokenOf: () => undefined,
    stealFromOthers: (name) => stealFromOthers(dir, name, lockOptions),
    queryOthers: (id) => Promise.resolve(readRequests(dir, id)),
    publish: (count, own) => requests.publish(count, own),
  };
}

/** A lock file cannot be taken from a process that holds it: checks that
 * none does. */
async function stealFromOthers(
  dir: string,
  name: string,
  lockOptions: ResolvedLockOptions,
): Promise<void> {
  const lock = fileBackend(lockFileOf(dir, name), lockOptions);
  const options = resolveAcquireOptions({ blocking: false });
  const never = new AbortController().signal;
  const hold = await lock.acquire("exclusive", options, never);
  if (hold !== undefined) return lock.release(hold);
  throw new DOMException(
    `Cannot steal the lock "${name}": another process holds it, and the kernel lets no process take a lock file's lock from another (steal across processes works on PostgreSQL)`,
    "NotSupportedError",
  );
}

/** One manager's requests, written to its file in `.clients/`. */
class RequestsFile {
  #dir: string;
  #path: string;
  #clientId: string;
  #file: Deno.FsFile | undefined;
  #own: () => LockSnapshot = () => ({ held: [], pending: [] });
  #timer: ReturnType<typeof setTimeout> | undefined;
  #written = 0;

  constructor(dir: string, clientId: string) {
    this.#dir = `${dir}/${CLIENTS}`;
    this.#clientId = clientId;
    this.#path = `${this.#dir}/${clientId.replace(/[^\w.-]/g, "_")}.json`;
  }

  /** Hears that the manager's requests changed: writes them within
   * `PUBLISH_MS`, and forgets them at once when there are none. */
  publish(count: number, own: () => LockSnapshot): void {
    this.#own = own;
    if (count === 0) {
      // No timer outlives the requests (test sanitizers count them).
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#remove();
    } else if (this.#timer === undefined) {
      const timer = setTimeout(() => this.#flush(), PUBLISH_MS);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  #flush(): void {
    this.#timer = undefined;
    const { held, pending } = this.#own();
    if (held.length + pending.length === 0) return;
    const text = JSON.stringify({ clientId: this.#clientId, held, pending });
    try {
      this.#file ??= this.#open();
      // Padded over the last text (JSON allows trailing spaces), so the
      // file never has to be truncated.
      const encoded = new TextEncoder().encode(text);
      const bytes = new Uint8Array(Math.max(encoded.length, this.#written));
      bytes.fill(0x20).set(encoded);
      this.#file.seekSync(0, Deno.SeekMode.Start);
      for (let at = 0; at < bytes.length;) {
        at += this.#file.writeSync(bytes.subarray(at));
      }
      this.#written = bytes.length;
    } catch {
      // query() is a view: a directory that cannot be written hides this
      // manager's requests from other processes, and nothing else.
    }
  }

  /** Makes the file under another name, locks it, then moves it in place,
   * so that a reader never finds it unlocked while this manager lives. */
  #open(): Deno.FsFile {
    try {
      Deno.mkdirSync(this.#dir, { mode: 0o700 });
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    const making = `${this.#path}.new`;
    const file = Deno.openSync(making, { write: true, create: true });
    tryLockFile(file, "exclusive");
    Deno.renameSync(making, this.#path);
    return file;
  }

  #remove(): void {
    if (this.#file === undefined) return;
    try {
      Deno.removeSync(this.#path);
    } catch {
      // Removed by hand: nothing to do.
    }
    closeLockFile(this.#file);
    this.#file = undefined;
    this.#written = 0;
  }
}

/**
 * The requests of every other manager using `dir`: a file whose lock is
 * free belongs to a manager that is gone, and is removed.
 */
export function readRequests(dir: string, except: string): LockSnapshot {
  const snapshot: LockSnapshot = { held: [], pending: [] };
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`${dir}/${CLIENTS}`)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return snapshot;
    throw error;
  }
  for (const entry of entries) {
    if (!entry.name.endsWith(".json")) continue;
    const requests = readLive(`${dir}/${CLIENTS}/${entry.name}`);
    if (requests === undefined || requests.clientId === except) continue;
    snapshot.held.push(...requests.held);
    snapshot.pending.push(...requests.pending);
  }
  return snapshot;
}

/** A manager's requests, if its manager lives. */
function readLive(
  path: string,
): (LockSnapshot & { clientId: string }) | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return undefined; // removed meanwhile
  }
  try {
    if (tryLockFile(file, "shared")) {
      Deno.removeSync(path);
      return undefined;
    }
    for (let tries = 0; tries < 3; tries++) {
      try {
        const parsed = JSON.parse(Deno.readTextFileSync(path));
        const valid = (i: LockInfo) => typeof i.name === "string";
        if (parsed.held.every(valid) && parsed.pending.every(valid)) {
          return parsed;
        }
      } catch {
        // Read while it was written: read again.
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    closeLockFile(file);
  }
}
