// Copyright 2026 the @locks/process-lock authors. MIT license.
// The owner record: who holds an exclusive lock, kept inside lock files
// that this library created, in a fixed-size block that is rewritten in
// place (never truncated). Files with other content are never written.

/** The first bytes of a lock file that carries owner records. */
export const MAGIC = "@locks/process-lock owner record v1\n";
/** The size of the whole record, magic included, in bytes. */
export const RECORD_SIZE = 256;

const encoder = new TextEncoder();
/** Files seen to carry the magic, by device, inode and birth time. */
const verified = new Set<string>();
const MAGIC_BYTES = encoder.encode(MAGIC);
const PAYLOAD_SIZE = RECORD_SIZE - MAGIC_BYTES.length;

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

function payload(): Uint8Array {
  const text = JSON.stringify({
    pid: Deno.pid,
    hostname: hostname(),
    since: new Date().toISOString(),
  });
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
  if (info.size !== RECORD_SIZE) return;
  try {
    const id = `${info.dev}:${info.ino}:${info.birthtime?.getTime()}`;
    if (verified.has(id)) {
      file.seekSync(MAGIC_BYTES.length, Deno.SeekMode.Start);
    } else {
      // Reading the magic leaves the offset where the payload starts.
      const head = new Uint8Array(MAGIC_BYTES.length);
      if (readFully(file, head) < head.length) return;
      if (!head.every((byte, i) => byte === MAGIC_BYTES[i])) return;
      if (verified.size > 1000) verified.clear();
      verified.add(id);
    }
    writeAll(file, payload());
  } catch {
    // A read-only or full file system: the lock itself still holds.
  }
}

/** The owner fields as read back from a lock file. */
export interface RecordFields {
  pid: number;
  hostname: string;
  since: string;
}

/** Parses a record, or returns undefined when it is not one. */
export function parseRecord(bytes: Uint8Array): RecordFields | undefined {
  if (bytes.length < RECORD_SIZE) return undefined;
  if (!MAGIC_BYTES.every((byte, i) => byte === bytes[i])) return undefined;
  const text = new TextDecoder().decode(
    bytes.subarray(MAGIC_BYTES.length, RECORD_SIZE),
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
