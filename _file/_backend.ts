// Copyright 2026 the @locks/process-lock authors. MIT license.
// The lock files as the backend of the file lock objects (a lock, or a
// semaphore of slot files), and the holds of a new file lock object.

import { acquireFile } from "./_acquire.ts";
import { isHeldFileValid, releaseFile } from "./_hold.ts";
import { type Backend, Holds } from "../_core/_holds.ts";
import { semaphoreBackend, type SlotHold } from "../_core/_semaphore.ts";
import {
  absoluteLockPath,
  type ResolvedLockOptions,
  resolveLockOptions,
  toLockPath,
} from "./_options.ts";

/** Locks on the file at `path`, with a lock object's options. */
export function fileBackend(
  path: string,
  lockOptions: ResolvedLockOptions,
): Backend<Deno.FsFile, void> {
  const absolutePath = absoluteLockPath(path);
  return {
    acquire: (mode, options, objectSignal) =>
      acquireFile({
        path,
        absolutePath,
        mode,
        options,
        lockOptions,
        objectSignal,
      }),
    release: (file) => releaseFile(absolutePath, file, lockOptions.logger),
    isValid: (file) => isHeldFileValid(file, path),
  };
}

/**
 * The lock file's path (a `file:` URL becomes its path) and the holds of a
 * new lock object on it, after checking the path and the lock options.
 */
export function fileHolds(
  path: string | URL,
  options: unknown,
): [string, Holds<Deno.FsFile, void>] {
  const lockPath = toLockPath(path);
  const backend = fileBackend(lockPath, resolveLockOptions(options));
  return [lockPath, new Holds(backend, lockPath)];
}

/** The file of slot `slot` of the semaphore on `path`. */
export function slotPath(path: string, slot: number): string {
  return `${path}.${slot}`;
}

/**
 * A semaphore of `slots` slots on `path`: the file at `path` is the gate,
 * slot i the file `<path>.<i>`.
 */
export function fileSemaphoreBackend(
  path: string,
  slots: number,
  lockOptions: ResolvedLockOptions,
): Backend<SlotHold<Deno.FsFile>, void> {
  return semaphoreBackend(
    fileBackend(path, lockOptions),
    Array.from(
      { length: slots },
      (_, slot) => fileBackend(slotPath(path, slot), lockOptions),
    ),
  );
}
