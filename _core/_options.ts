// Copyright 2026 the @locks/process-lock authors. MIT license.
// Checking the options of the lock constructors, of every acquire call and
// of every Web Locks request, whatever the backend.

import type { Logger } from "./types.ts";
import type { LockGrantedCallback, LockRequestOptions } from "./web_locks.ts";

/** How a lock is held: shared with other readers, or exclusively. */
export type LockMode = "shared" | "exclusive";

/** The longest timer (2^31-1 ms, 24.8 days): a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The default first delay and delay step between tries, in milliseconds. */
export const DEFAULT_DELAY_MS = 10;
/** The default longest delay between tries, in milliseconds. */
export const DEFAULT_MAX_DELAY_MS = 100;

/** `AcquireOptions` checked, with defaults filled in. */
export interface ResolvedAcquireOptions {
  blocking: boolean;
  delay: number;
  maxDelay: number;
  timeout: number | undefined;
  signal: AbortSignal | undefined;
}

/** The keys of `AcquireOptions`. */
export const ACQUIRE_KEYS: readonly string[] = [
  "blocking",
  "delay",
  "maxDelay",
  "timeout",
  "signal",
];
/** The options among `options` whose keys are in `keys`. */
export function pick(
  options: object | undefined,
  keys: readonly string[],
): Record<string, unknown> {
  const all = (options ?? {}) as Record<string, unknown>;
  return Object.fromEntries(keys.map((key) => [key, all[key]]));
}

/**
 * Checks that `value` is an options object (or undefined) with no key but
 * those in `known`.
 *
 * @throws {TypeError} On anything else, naming an unknown key and the
 * closest known one: a misspelt option must not be ignored.
 */
export function checkObject(
  value: unknown,
  what: string,
  known: readonly string[],
): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${what} must be an object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TypeError(`Unknown option "${key}" (${hintFor(key, known)})`);
    }
  }
  return value as Record<string, unknown>;
}

/** What an unknown option key may have meant. */
function hintFor(key: string, known: readonly string[]): string {
  const closest = closestOf(key, known);
  if (closest !== undefined) return `did you mean "${closest}"?`;
  const acquireKey = closestOf(key, ACQUIRE_KEYS);
  if (acquireKey !== undefined && !known.includes(acquireKey)) {
    const same = acquireKey === key ? "" : `did you mean "${acquireKey}"? `;
    return `${same}"${acquireKey}" is an option of each acquire call, not of the lock`;
  }
  return `known options: ${known.join(", ")}`;
}

/** The known name nearest to `name` in edits, if it is near enough. */
function closestOf(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j] + 1,
        row[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length];
}

function checkMs(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") {
    throw new TypeError(
      `Option "${name}" must be a number of milliseconds, got ${
        describe(value)
      }`,
    );
  }
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `Option "${name}" must be a finite number of milliseconds >= 0, got ${value}${
        name === "timeout" ? " (omit it to wait without a time limit)" : ""
      }`,
    );
  }
  return value;
}

/**
 * Checks an optional number option that must be finite and above 0.
 *
 * @returns The value, or `fallback` when it is undefined.
 */
export function checkPositive(
  value: unknown,
  name: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `Option "${name}" must be a number, got ${describe(value)}`,
    );
  }
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Option "${name}" must be a finite number > 0, got ${value}`,
    );
  }
  return value;
}

/**
 * Checks acquire options and fills in fasteners' defaults.
 *
 * @throws {TypeError} On an option of the wrong type, or an unknown one.
 * @throws {RangeError} On a negative, NaN or infinite time.
 */
export function resolveAcquireOptions(
  options: unknown,
): ResolvedAcquireOptions {
  const o = checkObject(options, "Acquire options", ACQUIRE_KEYS);
  if (o.blocking !== undefined && typeof o.blocking !== "boolean") {
    throw new TypeError(
      `Option "blocking" must be a boolean, got ${describe(o.blocking)}`,
    );
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(
      `Option "signal" must be an AbortSignal, got ${describe(o.signal)}`,
    );
  }
  const delay = checkMs(o.delay, "delay") ?? DEFAULT_DELAY_MS;
  const maxDelay = checkMs(o.maxDelay, "maxDelay") ?? DEFAULT_MAX_DELAY_MS;
  return {
    blocking: o.blocking ?? true,
    delay,
    // fasteners: a max_delay below delay means delay.
    maxDelay: Math.max(delay, maxDelay),
    timeout: checkMs(o.timeout, "timeout"),
    signal: o.signal as AbortSignal | undefined,
  };
}

/**
 * Checks a `logger` option.
 *
 * @returns A logger whose errors are dropped (a logger that throws must not
 * break a lock), or undefined.
 * @throws {TypeError} If it has no `debug()` method.
 */
export function checkLogger(value: unknown): Logger | undefined {
  if (value === undefined) return undefined;
  const logger = value as { debug?: unknown } | null;
  if (
    logger === null || typeof logger !== "object" ||
    typeof logger.debug !== "function"
  ) {
    throw new TypeError(
      `Option "logger" must have a debug() method (console works), got ${
        describe(value)
      }`,
    );
  }
  const debug = logger.debug as (...data: unknown[]) => void;
  return {
    debug: (...data: unknown[]) => {
      try {
        debug.apply(logger, data);
      } catch {
        // Logging is a courtesy.
      }
    },
  };
}
/** A short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  if (type === "object" || type === "function") {
    const name = (value as object).constructor?.name;
    return name ? `an instance of ${name}` : `a ${type}`;
  }
  return `a ${type} (${String(value)})`;
}

/**
 * Checks `request()`'s arguments after the name, as WebIDL and the spec
 * order them.
 *
 * @throws {TypeError} A missing callback or an unknown mode.
 * @throws {DOMException} `NotSupportedError` for a name starting with "-"
 * and for options that exclude each other.
 */
export function checkRequestArgs(
  name: string,
  rest: unknown[],
): [LockRequestOptions, LockGrantedCallback<unknown>] {
  const [options, callback] = rest.length >= 2 ? rest : [{}, rest[0]];
  if (typeof callback !== "function") {
    throw new TypeError("request() needs a callback function");
  }
  const o = (options ?? {}) as LockRequestOptions;
  if (o.mode !== undefined && o.mode !== "exclusive" && o.mode !== "shared") {
    throw new TypeError(
      `Option "mode" must be "exclusive" or "shared", got "${o.mode}"`,
    );
  }
  const clash = name.startsWith("-")
    ? 'A lock name must not start with "-" (reserved by the Web Locks API)'
    : o.steal && o.ifAvailable
    ? 'Options "steal" and "ifAvailable" exclude each other'
    : o.steal && o.mode === "shared"
    ? 'Option "steal" needs mode "exclusive"'
    : o.signal !== undefined && (o.steal || o.ifAvailable)
    ? 'Option "signal" cannot go with "steal" or "ifAvailable"'
    : undefined;
  if (clash) throw new DOMException(clash, "NotSupportedError");
  return [o, callback as LockGrantedCallback<unknown>];
}
