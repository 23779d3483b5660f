// Copyright 2026 the @locks/process-lock authors. MIT license.
// The decorator code shared by every lock kind: a wrapper that holds a lock
// around each call, usable as a plain wrapper and as a TC39 method decorator.

import type { LockedDecorator } from "./decorators.ts";

/**
 * Makes a decorator from a way to take the lock.
 *
 * @param acquire Takes the lock for one call; resolves to the function that
 * releases it, or undefined when the lock could not be had.
 * @param notAcquired The error for a call that could not have the lock.
 */
export function lockedDecorator(
  acquire: () => Promise<(() => unknown) | undefined>,
  notAcquired: () => Error,
): LockedDecorator {
  return <This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
  ) => {
    if (typeof fn !== "function") {
      throw new TypeError(
        `A locked decorator wraps a function, got ${typeof fn}`,
      );
    }
    return async function (this: This, ...args: Args): Promise<Awaited<R>> {
      const release = await acquire();
      if (release === undefined) throw notAcquired();
      try {
        return await fn.apply(this, args);
      } finally {
        await release();
      }
    };
  };
}
