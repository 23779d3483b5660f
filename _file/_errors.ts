// Copyright 2026 the @locks/process-lock authors. MIT license.
// File-system errors rewritten to name the lock path and say what to do.

/**
 * Rewrites a file-system error so that its message names the lock path and
 * says what to do. Keeps the error's class, and the original as `cause`.
 */
export function lockFileError(
  error: unknown,
  path: string,
  directory?: string,
): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const prefix = directory === undefined
    ? `Cannot open lock file "${path}"`
    : `Cannot create the directory "${directory}" for lock file "${path}"`;
  let message: string;
  if (error instanceof Deno.errors.NotCapable) {
    message =
      `${prefix}: ${error.message} (a lock needs --allow-read and --allow-write for its file)`;
  } else if (error instanceof Deno.errors.IsADirectory) {
    message = `${prefix}: it is a directory`;
  } else if (error instanceof Deno.errors.NotADirectory) {
    message = `${prefix}: a part of its parent path is a file, not a directory`;
  } else if (error instanceof Deno.errors.PermissionDenied) {
    message =
      `${prefix}: the operating system denied access (is the directory writable?): ${error.message}`;
  } else {
    message = `${prefix}: ${error.message}`;
  }
  const Class = error.constructor as new (
    message: string,
    options?: ErrorOptions,
  ) => Error;
  try {
    const wrapped = new Class(message, { cause: error });
    if (wrapped instanceof Error) return wrapped;
  } catch {
    // A class that cannot be built this way: fall through.
  }
  return new Error(message, { cause: error });
}
