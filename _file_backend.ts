// Copyright 2026 the @locks/process-lock authors. MIT license.
// The lock files as the backend of the file lock objects.

import { acquireFile } from "./_acquire.ts";
import type { Backend } from "./_holds.ts";
import { isHeldFileValid, releaseFile } from "./_hold.ts";
import { absoluteLockPath, type ResolvedLockOptions } from "./_options.ts";

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
