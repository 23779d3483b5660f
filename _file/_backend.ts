// Copyright 2026 the @locks/process-lock authors. MIT license.
// The lock files as the backend of the file lock objects (a lock, or a
// semaphore of slot files), and the holds of a new file lock object.

import { acquireFile } from "./_acquire.ts";
import { isHeldFileValid, releaseFile } from "./_hold.ts";
import { readOwner } from "./_record.ts";
import type { Backend } from "../_core/_backend.ts";
import { Holds } from "../_core/_holds.ts";
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
    system: "file",
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
    holderOf: () => recordedOwner(path),
  };
}

/** Who the lock file at `path` says holds it, if it says (telemetry). */
function recordedOwner(
  path: string,
): { pid: number; hostname: string } | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return undefined;
  }
  try {
    const owner = readOwner(file);
    return owner && { pid: owner.pid, hostname: owner.hostname };
  } catch {
    return undefined;
  } finally {
    file.close();
  }
}

/**
 * The lock file's path (a `file:` URL becomes its path) and the holds of a
 * new lock object on it, after checking the path and the lock options.
 */
export function fileHolds(
  path: string | URL,
  options: unknown,
  kind: string,
): [string, Holds<Deno.FsFile, void>] {
  const lockPath = toLockPath(path);
  const backend = fileBackend(lockPath, resolveLockOptions(options));
  return [lockPath, new Holds(backend, lockPath, kind)];
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
