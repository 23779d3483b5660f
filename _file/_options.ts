// Copyright 2026 the @locks/process-lock authors. MIT license.
// The arguments of a file lock checked: the lock path (and its absolute
// form) and the lock options.

import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { checkLogger, checkObject, describe } from "../_core/_options.ts";
import type { Logger, Sleep } from "../_core/types.ts";

/** `LockOptions` checked. */
export interface ResolvedLockOptions {
  sleep: Sleep | undefined;
  logger: Logger | undefined;
  /** Any file that opens for reading may be the lock (`flock(1)`'s way). */
  anyFile: boolean;
}

/** The keys of `LockOptions`. */
export const LOCK_KEYS: readonly string[] = ["sleep", "logger", "anyFile"];

/**
 * Checks the options of a lock constructor.
 *
 * @throws {TypeError} On an option of the wrong type.
 */
export function resolveLockOptions(options: unknown): ResolvedLockOptions {
  const o = checkObject(options, "Lock options", LOCK_KEYS);
  if (o.sleep !== undefined && typeof o.sleep !== "function") {
    throw new TypeError(
      `Option "sleep" must be a function (ms, { signal }) => Promise<void>, got ${
        describe(o.sleep)
      }`,
    );
  }
  if (o.anyFile !== undefined && typeof o.anyFile !== "boolean") {
    throw new TypeError(
      `Option "anyFile" must be a boolean, got ${describe(o.anyFile)}`,
    );
  }
  const logger = checkLogger(o.logger);
  return { sleep: o.sleep as Sleep | undefined, logger, anyFile: !!o.anyFile };
}

/**
 * Checks a lock path argument and returns it as a file path.
 *
 * @param path The path as the user gave it.
 * @returns The file path (a `file:` URL becomes its path).
 * @throws {TypeError} If the path is not a non-empty string or `file:` URL,
 * or contains a NUL byte.
 */
export function toLockPath(path: unknown): string {
  let result: string;
  if (typeof path === "string") {
    result = path;
  } else if (path instanceof URL) {
    if (path.protocol !== "file:") {
      throw new TypeError(
        `Lock path must be a file: URL, got a ${path.protocol} URL: ${path.href}`,
      );
    }
    result = fileURLToPath(path);
  } else {
    throw new TypeError(
      `Lock path must be a string or a file: URL, got ${describe(path)}`,
    );
  }
  if (result.length === 0) {
    throw new TypeError("Lock path must not be empty");
  }
  if (result.includes("\0")) {
    throw new TypeError(
      `Lock path must not contain a NUL byte: ${JSON.stringify(result)}`,
    );
  }
  return result;
}

/**
 * The absolute form of a lock path: the key under which the calls of this
 * process that wait for the same file find each other. Falls back to the
 * path as given when the current directory cannot be read.
 */
export function absoluteLockPath(path: string): string {
  try {
    return resolve(path);
  } catch {
    return path;
  }
}
