// Copyright 2026 the @locks/process-lock authors. MIT license.
// The owner record: who holds an exclusive lock, kept inside lock files
// that this library created, in a fixed-size block that is rewritten in
// place (never truncated). Files with other content are never written.

/** The first bytes of a lock file that carries owner records. */
export const MAGIC = "@locks/process-lock owner record v1\n";
/** The size of the whole record, magic included, in bytes. */
export const RECORD_SIZE = 512;

const encoder = new TextEncoder();
/** Files seen to carry the magic, by device, inode and birth time. */
const verified = new Set<string>();
const MAGIC_BYTES = encoder.encode(MAGIC);
/**
 * The waiter queue: after the owner record, slots in which waiting
 * processes write when they began to wait (epoch ms, decimal, followed by
 * "s" for a shared lock, space-padded; spaces when free). The oldest claim
 * goes first at a release.
 */
const QUEUE_OFFSET = 256;
const SLOT_SIZE = 24;
const SLOTS = 10;
const PAYLOAD_SIZE = QUEUE_OFFSET - MAGIC_BYTES.length;

let hostnameCache: string | undefined;

/** This machine's name, or "" when Deno has no `--allow-sys=hostname`. */
export function hostname(): string {
  if (hostnameCache === undefined) {
    hostnameCache = "";
    try {
      const state = Deno.permissions.querySync({
        name: "sys",
        kind: "hostname",
      }).state;
      if (state === "granted") hostnameCache = Deno.hostname();
    } catch {
      // No permission API or no hostname: leave it empty.
    }
  }
  return hostnameCache;
}

/** The record's payload: `text`, space-padded, ending in a newline. */
function payload(text: string): Uint8Array {
  const bytes = new Uint8Array(PAYLOAD_SIZE).fill(0x20);
  bytes.set(encoder.encode(text).subarray(0, PAYLOAD_SIZE - 1));
  bytes[PAYLOAD_SIZE - 1] = 0x0a;
  return bytes;
}

/**
 * Reads from the file's offset until `bytes` is full or the file ends.
 *
 * @returns How many bytes were read.
 */
export function readFully(file: Deno.FsFile, bytes: Uint8Array): number {
  let got = 0;
  while (got < bytes.length) {
    const n = file.readSync(bytes.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

/**
 * Stamps a newly created lock file with the magic and an empty record.
 * The file's offset is left at 0.
 */
export function initRecord(file: Deno.FsFile): void {
  const bytes = new Uint8Array(RECORD_SIZE).fill(0x20);
  bytes.set(MAGIC_BYTES);
  bytes[RECORD_SIZE - 1] = 0x0a;
  writeAll(file, bytes);
  file.seekSync(0, Deno.SeekMode.Start);
}

/**
 * Writes this process as the holder of the exclusive lock held through
 * `file`, when the file carries owner records. Expects the file offset at 0
 * and may move it. Never throws: the record is a courtesy, not the lock.
 */
export function writeRecord(file: Deno.FsFile, info: Deno.FileInfo): void {
  try {
    if (!carriesRecords(file, info)) return;
    const text = JSON.stringify({
      pid: Deno.pid,
      hostname: hostname(),
      since: new Date().toISOString(),
    });
    file.seekSync(MAGIC_BYTES.length, Deno.SeekMode.Start);
    writeAll(file, payload(text));
  } catch {
    // A read-only or full file system: the lock itself still holds.
  }
}

/**
 * Empties the owner record of a file that carries records: its exclusive
 * holder has released it. Call only while holding the lock exclusively.
 * Never throws.
 */
export function clearRecord(file: Deno.FsFile): void {
  try {
    file.seekSync(MAGIC_BYTES.length, Deno.SeekMode.Start);
    writeAll(file, payload(""));
  } catch {
    // A read-only or full file system: the record just stays.
  }
}

/**
 * Whether `file` (whose `fstat` is `info`) is a lock file that this library
 * created, with room for owner records. May move the file offset.
 *
 * @throws A read error.
 */
export function carriesRecords(
  file: Deno.FsFile,
  info: Deno.FileInfo,
): boolean {
  if (info.size !== RECORD_SIZE) return false;
  const id = `${info.dev}:${info.ino}:${info.birthtime?.getTime()}`;
  if (verified.has(id)) return true;
  file.seekSync(0, Deno.SeekMode.Start);
  const head = new Uint8Array(MAGIC_BYTES.length);
  if (readFully(file, head) < head.length) return false;
  if (!head.every((byte, i) => byte === MAGIC_BYTES[i])) return false;
  if (verified.size > 1000) verified.clear();
  verified.add(id);
  return true;
}

const decoder = new TextDecoder();

let ownPrefix: Uint8Array | undefined;

/**
 * Whether the owner record of a file that carries records names this
 * process (its pid and host name). Compares bytes only. Never throws.
 */
export function recordNamesThisProcess(file: Deno.FsFile): boolean {
  // The record starts with the pid and host name, as payload() writes them.
  ownPrefix ??= encoder.encode(
    JSON.stringify({ pid: Deno.pid, hostname: hostname() }).slice(0, -1) +
      ",",
  );
  try {
    file.seekSync(MAGIC_BYTES.length, Deno.SeekMode.Start);
    const bytes = new Uint8Array(ownPrefix.length);
    if (readFully(file, bytes) < bytes.length) return false;
    return bytes.every((byte, i) => byte === ownPrefix![i]);
  } catch {
    return false;
  }
}

/**
 * Whether any process has a claim in the waiter queue of a file that
 * carries records. Compares bytes only. Never throws (false on errors).
 */
export function hasClaims(file: Deno.FsFile): boolean {
  try {
    file.seekSync(QUEUE_OFFSET, Deno.SeekMode.Start);
    const bytes = new Uint8Array(SLOTS * SLOT_SIZE);
    const got = readFully(file, bytes);
    for (let i = 0; i < got; i++) if (bytes[i] !== 0x20) return true;
    return false;
  } catch {
    return false;
  }
}

/**
 * Reads the waiter queue of a file that carries records: the claim in each
 * slot (the wait start, negative for a shared lock), 0 for a free one.
 * Never throws (an unreadable queue reads empty).
 */
export function readClaims(file: Deno.FsFile): number[] {
  const claims = new Array<number>(SLOTS).fill(0);
  try {
    file.seekSync(QUEUE_OFFSET, Deno.SeekMode.Start);
    const bytes = new Uint8Array(SLOTS * SLOT_SIZE);
    const got = readFully(file, bytes);
    for (let i = 0; (i + 1) * SLOT_SIZE <= got; i++) {
      const text = decoder.decode(
        bytes.subarray(i * SLOT_SIZE, (i + 1) * SLOT_SIZE),
      ).trim();
      const shared = text.endsWith("s");
      const value = Number(shared ? text.slice(0, -1) : text || "0");
      claims[i] = Number.isFinite(value) && value > 0
        ? (shared ? -value : value)
        : 0;
    }
  } catch {
    // Read as empty.
  }
  return claims;
}

/**
 * Writes one slot of the waiter queue (0 frees it; a negative claim is for
 * a shared lock). Never throws: the queue only orders waiters, it is not
 * the lock.
 */
export function writeClaim(file: Deno.FsFile, slot: number, claim: number) {
  try {
    const text = claim > 0
      ? claim.toFixed(3)
      : claim < 0
      ? `${(-claim).toFixed(3)}s`
      : "";
    const bytes = new Uint8Array(SLOT_SIZE).fill(0x20);
    bytes.set(encoder.encode(text).subarray(0, SLOT_SIZE));
    file.seekSync(QUEUE_OFFSET + slot * SLOT_SIZE, Deno.SeekMode.Start);
    writeAll(file, bytes);
  } catch {
    // A read-only or full file system.
  }
}

/** The owner fields as read back from a lock file. */
export interface RecordFields {
  pid: number;
  hostname: string;
  since: string;
}

/**
 * Reads and parses the record of `file` from its start.
 *
 * @throws A read error.
 */
export function readRecord(file: Deno.FsFile): RecordFields | undefined {
  file.seekSync(0, Deno.SeekMode.Start);
  const bytes = new Uint8Array(RECORD_SIZE);
  return parseRecord(bytes.subarray(0, readFully(file, bytes)));
}

/** Parses a record, or returns undefined when it is not one. */
export function parseRecord(bytes: Uint8Array): RecordFields | undefined {
  if (bytes.length < RECORD_SIZE) return undefined;
  if (!MAGIC_BYTES.every((byte, i) => byte === bytes[i])) return undefined;
  const text = decoder.decode(
    bytes.subarray(MAGIC_BYTES.length, QUEUE_OFFSET),
  ).trim();
  if (text === "") return undefined;
  try {
    const value = JSON.parse(text);
    if (
      typeof value?.pid === "number" && typeof value.hostname === "string" &&
      typeof value.since === "string"
    ) {
      return value;
    }
  } catch {
    // Torn or foreign: no record.
  }
  return undefined;
}
