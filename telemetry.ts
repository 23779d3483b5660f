// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * Lock waits and holds in your traces and metrics, through Deno's built-in
 * OpenTelemetry: with `OTEL_DENO=true` (and the usual `OTEL_EXPORTER_OTLP_*`
 * settings), every acquisition of every lock of this project (file locks,
 * readers-writer locks, semaphores, decorators, the PostgreSQL locks, the
 * Web Locks managers) makes a wait span and a hold span, children of the
 * caller's active span, and records the metrics below. Nothing to install
 * or configure.
 *
 * | Span or metric | What | Attributes |
 * | --- | --- | --- |
 * | `process_lock.wait` (span) | from the call to the grant or the give-up | name, backend, kind, mode, outcome; holder.pid and holder.host when busy (lock files) |
 * | `process_lock.hold` (span) | from the grant to the release, or the loss (then an error status, the reason, and `process_lock.lost`) | name, backend, kind, mode, slot (semaphores) |
 * | `process_lock.wait.duration` (histogram, s) | each wait | backend, kind, mode, outcome |
 * | `process_lock.hold.duration` (histogram, s) | each hold | backend, kind, mode |
 * | `process_lock.acquisitions` (counter) | each call | backend, kind, mode, outcome |
 * | `process_lock.lost` (counter) | each hold lost (PostgreSQL) | backend, kind, mode |
 * | `process_lock.waiting` (up-down counter) | calls waiting now | backend, kind, mode |
 *
 * Attribute keys are `process_lock.<name>` on spans and bare on metrics
 * (low cardinality: the lock's name is on spans only, unless
 * {@linkcode configureLockTelemetry} adds it). Values: `backend`
 * is `file` or `postgres`; `kind` is `lock`, `rwlock`, `semaphore`,
 * `decorator` or `web_lock`; `mode` is `exclusive` or `shared`; `outcome`
 * is `acquired`, `busy` (a try that failed), `timeout`, `aborted` or
 * `error`.
 *
 * The command line makes a `process_lock.command` span around its wait,
 * hold and command, and gives the command its W3C trace context in
 * `TRACEPARENT`, so that the command's own spans join the same trace.
 *
 * Off (the default), the locks use no OpenTelemetry at all: whether it is
 * on is decided once per process, when the first lock object is made.
 * Deno before 2.9 crashes when its OpenTelemetry is used while off, so
 * there this module never uses it.
 *
 * @example Usage
 * ```ts
 * import { withLockSpan } from "@locks/process-lock/telemetry";
 * import assert from "node:assert/strict";
 *
 * // Off unless OTEL_DENO=true: the function runs, without a trace context.
 * const traceparent = await withLockSpan("job", (tp) => Promise.resolve(tp));
 * assert.ok(traceparent === undefined || traceparent.startsWith("00-"));
 * ```
 *
 * @module
 */

import { inSpan, setNameInMetrics } from "./_core/_telemetry.ts";

/**
 * Runs `fn` inside a new span `process_lock.<what>` of the active trace,
 * and gives it the span's W3C trace context (`traceparent`), to pass to a
 * child process in `TRACEPARENT`. With OpenTelemetry off, runs `fn` with
 * `undefined`.
 *
 * @param what The span's name after `process_lock.`.
 * @param fn Runs inside the span.
 * @param attributes Attributes of the span.
 * @returns What `fn` returns.
 * @throws What `fn` throws (the span then has an error status).
 *
 * @example Passing the trace context to a child process
 * ```ts
 * import { withLockSpan } from "@locks/process-lock/telemetry";
 *
 * const code = await withLockSpan("command", async (traceparent) => {
 *   const env: Record<string, string> = traceparent ? { TRACEPARENT: traceparent } : {};
 *   const { code } = await new Deno.Command(Deno.execPath(), { args: ["--version"], env }).output();
 *   return code;
 * });
 * ```
 */
export function withLockSpan<T>(
  what: string,
  fn: (traceparent: string | undefined) => Promise<T>,
  attributes: Record<string, string | number | boolean> = {},
): Promise<T> {
  return inSpan(`process_lock.${what}`, attributes, fn);
}

/**
 * Options of this project's telemetry.
 *
 * @example The lock's name on the metrics too
 * ```ts
 * import type { LockTelemetryOptions } from "@locks/process-lock/telemetry";
 *
 * const options: LockTelemetryOptions = { nameInMetrics: true };
 * ```
 */
export interface LockTelemetryOptions {
  /**
   * Adds the lock's name (`name`) to the metrics' attributes. Every
   * distinct lock then makes series of its own: keep it for a few locks.
   *
   * @default {false}
   */
  nameInMetrics?: boolean;
}

/**
 * Sets the options of this project's telemetry, for the locks' calls from
 * then on.
 *
 * @param options What to change.
 * @throws {TypeError} If `nameInMetrics` is not a boolean.
 *
 * @example Naming the locks in the metrics
 * ```ts
 * import { configureLockTelemetry } from "@locks/process-lock/telemetry";
 *
 * configureLockTelemetry({ nameInMetrics: true });
 * configureLockTelemetry({ nameInMetrics: false });
 * ```
 */
export function configureLockTelemetry(options: LockTelemetryOptions): void {
  const { nameInMetrics } = options;
  if (nameInMetrics === undefined) return;
  if (typeof nameInMetrics !== "boolean") {
    throw new TypeError(
      `Option "nameInMetrics" must be a boolean, got ${typeof nameInMetrics}`,
    );
  }
  setNameInMetrics(nameInMetrics);
}
