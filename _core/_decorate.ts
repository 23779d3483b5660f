// Copyright 2026 the @locks/process-lock authors. MIT license.
// The decorator code of every lock kind and backend: a wrapper that holds a
// lock around each call, usable as a plain wrapper and as a TC39 method
// decorator (re-exported by decorators.ts and postgres/mod.ts).

import type { Backend } from "./_backend.ts";
import { Holds } from "./_holds.ts";
import type { AcquireOptions } from "./types.ts";
import {
  ACQUIRE_KEYS,
  type LockMode,
  pick,
  resolveAcquireOptions,
} from "./_options.ts";

/**
 * What the decorators return: a function that wraps `fn` so that every
 * call holds the lock while it runs. Called with a method decorator's
 * context as second argument, it serves as a TC39 method decorator.
 *
 * @typeParam This The type of `this` in `fn`.
 * @typeParam Args The parameters of `fn`.
 * @typeParam R The result of `fn`, awaited.
 *
 * @example One decorator for several functions
 * ```ts
 * import { interprocessLocked, type LockedDecorator } from "@locks/process-lock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * const locked: LockedDecorator = interprocessLocked(path);
 * const a = locked(async () => "a");
 * const b = locked(async (x: number) => x + 1);
 * assert((await a()) === "a" && (await b(1)) === 2);
 * await Deno.remove(path);
 * ```
 */
export type LockedDecorator = <This, Args extends unknown[], R>(
  fn: (this: This, ...args: Args) => R,
  context?: ClassMethodDecoratorContext<
    This,
    (this: This, ...args: Args) => R
  >,
) => (this: This, ...args: Args) => Promise<Awaited<R>>;

/**
 * Makes a decorator: each call takes a lock of `mode` on `backendOf()` as
 * a lock object of its own would (on `name`), runs, and releases it; a call
 * that cannot have the lock in time rejects with `LockTimeoutError`.
 *
 * @param options The decorator's options, their keys already checked: the
 * acquire options among them are checked now, so that a mistake shows
 * where it is made.
 * @throws {TypeError|RangeError} On a bad acquire option.
 */
export function lockedDecorator<H, R extends void | Promise<void>>(
  mode: LockMode,
  backendOf: () => Backend<H, R>,
  name: string,
  options: object | undefined,
): LockedDecorator {
  const acquireOptions: AcquireOptions = pick(options, ACQUIRE_KEYS);
  resolveAcquireOptions(acquireOptions);
  return <This, Args extends unknown[], Result>(
    fn: (this: This, ...args: Args) => Result,
  ) => {
    if (typeof fn !== "function") {
      throw new TypeError(
        `A locked decorator wraps a function, got ${typeof fn}`,
      );
    }
    return async function (
      this: This,
      ...args: Args
    ): Promise<Awaited<Result>> {
      const holds = new Holds(backendOf(), name, "decorator");
      const release = await holds.scoped(mode, acquireOptions);
      try {
        return await fn.apply(this, args);
      } finally {
        await release();
      }
    };
  };
}
