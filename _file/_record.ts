// Copyright 2026 the @locks/process-lock authors. MIT license.
// The block at the start of a lock file that this library created: a magic
// line, the waiting mark and the owner record, rewritten in place and never
// truncated. Every write first checks the magic, so a file that another tool
// has since rewritten is never written to.
//
//   offset 0   MAGIC (36 bytes)
//   offset 36  the waiting mark: "<epoch ms> <pid>", and " w" when a
//              writer waits; space-padded, "\n"
//   offset 68  the owner record: JSON, space-padded, "\n"
//   size 256

import { hostname } from "../_core/_host.ts";

/** The first bytes of a lock file that carries the block. */
export const MAGIC = "@locks/process-lock owner record v2\n";
/** The size of the whole block, magic included, in bytes. */
export const BLOCK_SIZE = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The magic as bytes. */
const MAGIC_BYTES = encoder.encode(MAGIC);
const MARK_OFFSET = MAGIC_BYTES.length;
const MARK_SIZE = 32;
/** Where the owner record starts. */
const OWNER_OFFSET = MARK_OFFSET + MARK_SIZE;
const OWNER_SIZE = BLOCK_SIZE - OWNER_OFFSET;

/** A waiting process, as its mark says: when it last said so, its pid,
 * and whether it waits to write (an exclusive lock). */
export interface Mark {
  at: number;
  pid: number;
  writer?: boolean;
}

/** How long (ms) a waiting mark counts after it was written. */
export const MARK_TTL_MS = 5_000;

/** Whether `mark` says that a writer of another process waits, now. */
export function isWriterWaiting(mark: Mark | null | undefined): boolean {
  return !!mark?.writer && mark.pid !== Deno.pid &&
    Date.now() - mark.at < MARK_TTL_MS;
}

/** The owner fields as read back from a lock file. */
export interface OwnerFields {
  pid: number;
  hostname: string;
  since: string;
}

/** `text` space-padded to `size` bytes, ending in a newline. */
function padded(text: string, size: number): Uint8Array {
  const bytes = new Uint8Array(size).fill(0x20);
  let ascii = true;
  for (let i = 0; i < text.length && ascii; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7e) ascii = false;
    else if (i < size - 1) bytes[i] = code;
  }
  if (!ascii) {
    bytes.fill(0x20);
    bytes.set(encoder.encode(text).subarray(0, size - 1));
  }
  bytes[size - 1] = 0x0a;
  return bytes;
}

/** An empty owner record and mark (kept: they never change). */
const EMPTY_OWNER = padded("", OWNER_SIZE);
const EMPTY_MARK = padded("", MARK_SIZE);
/** The head read by readHead (reused: it is parsed at once). */
const head = new Uint8Array(OWNER_OFFSET);

/** Whether `bytes` starts with the magic. */
function startsWithMagic(bytes: Uint8Array): boolean {
  for (let i = 0; i < MARK_OFFSET; i++) {
    if (bytes[i] !== MAGIC_BYTES[i]) return false;
  }
  return true;
}

/** Reads until `bytes` is full or the file ends; returns the count. */
function readFully(file: Deno.FsFile, bytes: Uint8Array): number {
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

/** Fills a newly created lock file with the empty block. */
export function initBlock(file: Deno.FsFile): void {
  const bytes = new Uint8Array(BLOCK_SIZE).fill(0x20);
  bytes.set(MAGIC_BYTES);
  bytes[OWNER_OFFSET - 1] = 0x0a;
  bytes[BLOCK_SIZE - 1] = 0x0a;
  writeAll(file, bytes);
}

/**
 * Reads the magic and the waiting mark from the start of `file`, leaving
 * the file offset at the owner record.
 *
 * @returns The mark (`null` when there is none), or `undefined` when the
 * file does not start with the magic. Never throws (`undefined`).
 */
function readHead(
  file: Deno.FsFile,
  atStart = false,
): Mark | null | undefined {
  try {
    if (!atStart) file.seekSync(0, Deno.SeekMode.Start);
    if (readFully(file, head) < head.length) return undefined;
  } catch {
    return undefined;
  }
  if (!startsWithMagic(head)) return undefined;
  // "<at> <pid>": two decimal numbers, then " w" for a writer.
  const numbers = [0, 0];
  let which = 0;
  let writer = false;
  for (let i = MARK_OFFSET; i < OWNER_OFFSET; i++) {
    const byte = head[i];
    if (byte >= 0x30 && byte <= 0x39 && !writer) {
      numbers[which] = numbers[which] * 10 + byte - 0x30;
    } else if (byte === 0x20 && numbers[which] > 0 && which === 0) {
      which = 1;
    } else if (byte === 0x77 && which === 1 && numbers[1] > 0) {
      writer = true;
    } else if (byte !== 0x20 && byte !== 0x0a) {
      return null;
    }
  }
  const [at, pid] = numbers;
  return at > 0 && pid > 0 ? { at, pid, writer } : null;
}

/** The start of this process's owner record, up to the time. */
let ownerPrefix: string | undefined;

/**
 * Writes this process as the exclusive holder of the lock held through
 * `file`, when it carries the block, and empties the waiting mark in the
 * same write if it is still `mine`.
 *
 * @param size The file's size (only a file of the block's size carries it).
 * @param atStart Whether the file offset is 0 (saves a seek).
 * @param mine This call's waiting mark, if it wrote one.
 * @returns Whether the record was written. Never throws: the record is a
 * courtesy, not the lock.
 */
export function writeOwner(
  file: Deno.FsFile,
  size: number,
  atStart: boolean,
  mine: Mark | undefined,
): boolean {
  if (size !== BLOCK_SIZE) return false;
  const mark = readHead(file, atStart);
  if (mark === undefined) return false;
  ownerPrefix ??= JSON.stringify({ pid: Deno.pid, hostname: hostname() })
    .slice(0, -1) + ',"since":"';
  const owner = padded(
    `${ownerPrefix}${new Date().toISOString()}"}`,
    OWNER_SIZE,
  );
  try {
    if (isMine(mark, mine)) {
      // The file offset is at the owner record: go back to the mark.
      file.seekSync(MARK_OFFSET, Deno.SeekMode.Start);
      const both = new Uint8Array(MARK_SIZE + OWNER_SIZE);
      both.set(EMPTY_MARK);
      both.set(owner, MARK_SIZE);
      writeAll(file, both);
    } else {
      writeAll(file, owner);
    }
    return true;
  } catch {
    // A read-only or full file system: the lock itself still holds.
    return false;
  }
}

function isMine(mark: Mark | null, mine: Mark | undefined): boolean {
  return mine !== undefined && mark?.at === mine.at && mark.pid === mine.pid;
}

/**
 * Empties the owner record that this process wrote, at its release. Call
 * while still holding the lock. Checks the magic first, and on the way
 * reads the waiting mark. Never throws.
 *
 * @returns The waiting mark, or null.
 */
export function clearOwnerReadingMark(file: Deno.FsFile): Mark | null {
  const mark = readHead(file);
  if (mark === undefined) return null;
  try {
    writeAll(file, EMPTY_OWNER);
  } catch {
    // The record stays; readLockOwner() checks that its process lives.
  }
  return mark;
}

/**
 * Reads the waiting mark of a file that carries the block. Never throws.
 *
 * @returns The mark, or null (none, or no block).
 */
export function readMark(file: Deno.FsFile): Mark | null {
  return readHead(file) ?? null;
}

/**
 * Writes (or, with `null`, empties) the waiting mark of a file that carries
 * the block. Any process may write it at any time: every writer writes the
 * same kind of value, so a lost race costs nothing; but a reader's mark
 * never replaces a waiting writer's. Never throws.
 */
export function writeMark(file: Deno.FsFile, mark: Mark | null): void {
  const current = readHead(file);
  if (current === undefined) return;
  if (mark !== null && !mark.writer && isWriterWaiting(current)) return;
  const text = mark === null
    ? ""
    : `${mark.at} ${mark.pid}${mark.writer ? " w" : ""}`;
  try {
    file.seekSync(MARK_OFFSET, Deno.SeekMode.Start);
    writeAll(file, padded(text, MARK_SIZE));
  } catch {
    // A read-only file system, or Windows (the holder's lock stops writes).
  }
}

/**
 * Empties the waiting mark if it is still `mine` (not since overwritten by
 * another waiter). Never throws.
 */
export function clearMark(file: Deno.FsFile, mine: Mark): void {
  if (!isMine(readHead(file) ?? null, mine)) return;
  try {
    file.seekSync(MARK_OFFSET, Deno.SeekMode.Start);
    writeAll(file, EMPTY_MARK);
  } catch {
    // It expires by itself.
  }
}

/**
 * Reads the owner record of `file`.
 *
 * @returns The record, or undefined when the file carries none (no block,
 * an empty record, or a torn or foreign one).
 * @throws A read error.
 */
export function readOwner(file: Deno.FsFile): OwnerFields | undefined {
  file.seekSync(0, Deno.SeekMode.Start);
  const bytes = new Uint8Array(BLOCK_SIZE);
  if (readFully(file, bytes) < BLOCK_SIZE || !startsWithMagic(bytes)) {
    return undefined;
  }
  const text = decoder.decode(bytes.subarray(OWNER_OFFSET)).trim();
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
