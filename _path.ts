// Copyright 2026 the @locks/process-lock authors. MIT license.
// Turning a user's path argument into a file path and a key for the
// per-process registries.

import { fileURLToPath } from "node:url";
import { isAbsolute, resolve } from "node:path";

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
 * The absolute form of a lock path, used to find waiters and watchers of the
 * same file in this process. Falls back to the path as given when the
 * current directory cannot be read.
 */
export function lockKey(path: string): string {
  if (isAbsolute(path)) return resolve(path);
  try {
    return resolve(path);
  } catch {
    return path;
  }
}

/** A short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  if (type === "object" || type === "function") {
    const name = (value as object).constructor?.name;
    return name ? `an instance of ${name}` : `a ${type}`;
  }
  return `a ${type} (${String(value)})`;
}
