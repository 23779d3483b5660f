// Copyright 2026 the @locks/process-lock authors. MIT license.
// A counting semaphore on any backend of single locks: waiters queue on a
// gate lock; the gate's holder takes the first free slot lock, or waits for
// one on every slot at once, then leaves the gate.

import type { Backend } from "./_backend.ts";
import type { ResolvedAcquireOptions } from "./_options.ts";
import { checkObject, describe } from "./_options.ts";

/** A slot held: which one, and its lock's hold. */
export interface SlotHold<H> {
  slot: number;
  hold: H;
}

/**
 * Checks a semaphore's options (an object of the `known` keys, `what` in
 * messages) and takes out `slots`.
 *
 * @returns The number of slots, and the other options.
 * @throws {TypeError} If the options or `slots` are missing or of the wrong
 * type, or a key is unknown.
 * @throws {RangeError} If `slots` is not a whole number from 1.
 */
export function splitSlots(
  options: unknown,
  what: string,
  known: readonly string[],
): [number, Record<string, unknown>] {
  const { slots, ...rest } = checkObject(options, what, known);
  return [checkSlots(slots), rest];
}

/** Checks `slots`: a whole number from 1. */
function checkSlots(slots: unknown): number {
  if (slots === undefined) {
    throw new TypeError(
      'A semaphore needs the option "slots": how many holders at once (a whole number from 1)',
    );
  }
  if (typeof slots !== "number") {
    throw new TypeError(
      `Option "slots" must be a number, got ${describe(slots)}`,
    );
  }
  if (!Number.isInteger(slots) || slots < 1) {
    throw new RangeError(
      `Option "slots" must be a whole number from 1, got ${slots}`,
    );
  }
  return slots;
}

/**
 * A semaphore of `slots.length` slots: `gate` and each slot are exclusive
 * locks of one backend. At most one caller at a time (the gate's holder,
 * across every process) looks for a slot, so waiters do not poll the slots:
 * they wait for the gate, each as the acquire options say.
 */
export function semaphoreBackend<H, R extends void | Promise<void>>(
  gate: Backend<H, R>,
  slots: Backend<H, R>[],
): Backend<SlotHold<H>, R> {
  return {
    system: gate.system,
    async acquire(_mode, options, objectSignal) {
      // A try takes a free slot without queuing: the gate may be held by a
      // caller that is only passing through.
      if (!options.blocking || options.timeout === 0) {
        return await trySlots(slots, options, objectSignal);
      }
      const deadline = performance.now() + (options.timeout ?? Infinity);
      const gateHold = await gate.acquire("exclusive", options, objectSignal);
      if (gateHold === undefined) return undefined;
      try {
        return await trySlots(slots, options, objectSignal) ??
          await waitForSlot(slots, options, objectSignal, deadline);
      } finally {
        await gate.release(gateHold);
      }
    },
    release: (held) => slots[held.slot].release(held.hold),
    isValid: (held) => slots[held.slot].isValid(held.hold),
    lostSignal: slots[0].lostSignal &&
      ((held) => slots[held.slot].lostSignal!(held.hold)),
  };
}

/** One try at each slot, in order: the first free one. */
async function trySlots<H, R extends void | Promise<void>>(
  slots: Backend<H, R>[],
  options: ResolvedAcquireOptions,
  objectSignal: AbortSignal,
): Promise<SlotHold<H> | undefined> {
  const once = { ...options, blocking: false };
  for (let slot = 0; slot < slots.length; slot++) {
    const hold = await slots[slot].acquire("exclusive", once, objectSignal);
    if (hold !== undefined) return { slot, hold };
  }
  return undefined;
}

/**
 * Waits on every slot at once until the deadline (each wait as the acquire
 * options say, ended by a signal of its own); the first slot granted is
 * kept, any other granted in the same moment let go.
 */
async function waitForSlot<H, R extends void | Promise<void>>(
  slots: Backend<H, R>[],
  options: ResolvedAcquireOptions,
  objectSignal: AbortSignal,
  deadline: number,
): Promise<SlotHold<H> | undefined> {
  const remaining = Math.floor(deadline - performance.now());
  if (!options.blocking || remaining < 1) return undefined;
  const done = new AbortController();
  const signal = options.signal === undefined
    ? done.signal
    : AbortSignal.any([options.signal, done.signal]);
  const each = {
    ...options,
    signal,
    timeout: Number.isFinite(remaining) ? remaining : undefined,
  };
  let first: SlotHold<H> | undefined;
  const waits = slots.map(async (backend, slot) => {
    let hold: H | undefined;
    try {
      hold = await backend.acquire("exclusive", each, objectSignal);
    } finally {
      // A grant, an abort or an error ends every other wait.
      if (!done.signal.aborted) done.abort();
    }
    if (hold === undefined) return;
    if (first === undefined) first = { slot, hold };
    else await backend.release(hold);
  });
  const settled = await Promise.allSettled(waits);
  const failure = settled.find((s) =>
    s.status === "rejected" && s.reason !== done.signal.reason
  );
  if (first === undefined && failure?.status === "rejected") {
    throw failure.reason;
  }
  return first;
}
