// Copyright 2026 the @locks/process-lock authors. MIT license.
// The decorator code shared by every lock kind, file or PostgreSQL: a
// wrapper that holds a lock around each call, usable as a plain wrapper and
// as a TC39 method decorator.

import type { LockedDecorator } from "./decorators.ts";
import type { AcquireOptions } from "./lock.ts";

/** What a decorator holds around each call. */
export type DecoratorKind = "exclusive" | "read" | "write";

/** An exclusive lock: `InterProcessLock` or `PostgresLock`. */
interface ExclusiveLock {
  acquire(options: AcquireOptions): Promise<boolean>;
  release(): unknown;
}

/** A readers-writer lock: the file one or the PostgreSQL one. */
interface ReaderWriterLock {
  acquireReadLock(options: AcquireOptions): Promise<boolean>;
  acquireWriteLock(options: AcquireOptions): Promise<boolean>;
  releaseReadLock(): unknown;
  releaseWriteLock(): unknown;
}

/** The acquire options among a decorator's options. */
export function acquireOptionsOf(
  options: AcquireOptions | undefined,
): AcquireOptions {
  return {
    blocking: options?.blocking,
    delay: options?.delay,
    maxDelay: options?.maxDelay,
    timeout: options?.timeout,
    signal: options?.signal,
  };
}

/**
 * Makes a decorator: each call makes a lock object of its own, takes the
 * lock of `kind` with `acquireOptions`, runs, and releases it.
 *
 * @param notAcquired The error for a call that could not have the lock.
 */
export function lockedDecorator(
  kind: DecoratorKind,
  exclusive: () => ExclusiveLock,
  readerWriter: () => ReaderWriterLock,
  acquireOptions: AcquireOptions,
  notAcquired: () => Error,
): LockedDecorator {
  const take = async (): Promise<(() => unknown) | undefined> => {
    if (kind === "exclusive") {
      const lock = exclusive();
      return (await lock.acquire(acquireOptions))
        ? () => lock.release()
        : undefined;
    }
    const rw = readerWriter();
    if (kind === "read") {
      return (await rw.acquireReadLock(acquireOptions))
        ? () => rw.releaseReadLock()
        : undefined;
    }
    return (await rw.acquireWriteLock(acquireOptions))
      ? () => rw.releaseWriteLock()
      : undefined;
  };
  return <This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
  ) => {
    if (typeof fn !== "function") {
      throw new TypeError(
        `A locked decorator wraps a function, got ${typeof fn}`,
      );
    }
    return async function (this: This, ...args: Args): Promise<Awaited<R>> {
      const release = await take();
      if (release === undefined) throw notAcquired();
      try {
        return await fn.apply(this, args);
      } finally {
        await release();
      }
    };
  };
}
