// Copyright 2026 the @locks/process-lock authors. MIT license.
// Lock waits and holds as OpenTelemetry spans and metrics through Deno's
// built-in OpenTelemetry (`Deno.telemetry`): decided once per process, and
// when it is off, the backends are used as they are (no cost per call).

import type { Backend } from "./_backend.ts";
import type { LockMode } from "./_options.ts";

/** The namespace of every span, metric and attribute of this project. */
const NS = "process_lock";
const VERSION = "0.1.0";
/** OpenTelemetry's status code of a failed span. */
const STATUS_ERROR = 2;
/** The context key of the active span, as `@opentelemetry/api` makes it. */
const SPAN_KEY = Symbol.for("OpenTelemetry Context Key SPAN");

type Attributes = Record<string, string | number | boolean>;
interface Span {
  setAttribute(key: string, value: string | number | boolean): void;
  setStatus(status: { code: number; message?: string }): void;
  spanContext(): { traceId: string; spanId: string; traceFlags: number };
  end(): void;
}
interface Context {
  setValue(key: symbol, value: unknown): Context;
}
interface Instrument {
  add?(value: number, attributes?: Attributes): void;
  record?(value: number, attributes?: Attributes): void;
}
interface Tools {
  startSpan(name: string, attributes: Attributes, context?: Context): Span;
  active(): Context;
  run<T>(context: Context, fn: () => T): T;
  waitSeconds: Instrument;
  holdSeconds: Instrument;
  acquisitions: Instrument;
  lost: Instrument;
  waiting: Instrument;
}

let tools: Tools | null | undefined;
/** Whether the metrics carry the lock's name (high cardinality). */
let nameInMetrics = false;

/** Makes the metrics carry the lock's name, or not. */
export function setNameInMetrics(on: boolean): void {
  nameInMetrics = on;
}

/** The instruments, or null when OpenTelemetry is off (decided once). */
export function telemetry(): Tools | null {
  if (tools === undefined) tools = startTelemetry();
  return tools;
}

/** Deno before 2.9 crashes (a panic, not an exception) when its
 * OpenTelemetry is called while off: never there. In 2.9, `getMeter`
 * throws "otel not initialized" when it is off. */
function startTelemetry(): Tools | null {
  const [major, minor] = Deno.version.deno.split(".").map(Number);
  if (major < 2 || (major === 2 && minor < 9)) return null;
  // deno-lint-ignore no-explicit-any
  const api = (Deno as any).telemetry;
  if (api === undefined) return null;
  try {
    const meter = api.meterProvider.getMeter(NS, VERSION);
    const tracer = api.tracerProvider.getTracer(NS, VERSION);
    const seconds = { unit: "s" };
    return {
      startSpan: (name, attributes, context) =>
        tracer.startSpan(name, { attributes }, context),
      active: () => api.contextManager.active(),
      run: (context, fn) => api.contextManager.with(context, fn),
      waitSeconds: meter.createHistogram(`${NS}.wait.duration`, seconds),
      holdSeconds: meter.createHistogram(`${NS}.hold.duration`, seconds),
      acquisitions: meter.createCounter(`${NS}.acquisitions`),
      lost: meter.createCounter(`${NS}.lost`),
      waiting: meter.createUpDownCounter(`${NS}.waiting`),
    };
  } catch {
    return null; // off
  }
}

/** What a lock's spans and metrics say about it. */
export interface LockAbout {
  /** The lock file's path or the lock's name. */
  name: string;
  /** "lock", "rwlock", "semaphore", "decorator" or "web_lock". */
  kind: string;
}

/** A hold span: when it began, and its metrics' labels. */
interface HoldSpan {
  span: Span;
  at: number;
  t: Tools;
  labels: Attributes;
}

/** `fn()`, or undefined if it threw: telemetry never fails a lock call. */
function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** The hold span of each hold (a file, a session's hold, a slot). */
const holdSpans = new WeakMap<object, HoldSpan>();

/**
 * `backend` with a wait span and a hold span for every acquisition, and the
 * metrics; `backend` itself when OpenTelemetry is off.
 */
export function traced<H, R extends void | Promise<void>>(
  backend: Backend<H, R>,
  about: LockAbout,
): Backend<H, R> {
  const t = telemetry();
  if (t === null) return backend;
  return {
    ...backend,
    async acquire(mode, options, objectSignal) {
      const wait = safely(() => new Wait(t, backend, about, mode));
      let hold: H | undefined;
      try {
        hold = await backend.acquire(mode, options, objectSignal);
      } catch (error) {
        const aborted = objectSignal.aborted || options.signal?.aborted;
        safely(() =>
          wait?.end(aborted ? "aborted" : "error", undefined, error)
        );
        throw error;
      }
      const busy = !options.blocking || options.timeout === 0;
      const outcome = hold !== undefined
        ? "acquired"
        : busy
        ? "busy"
        : "timeout";
      safely(() => wait?.end(outcome, hold));
      return hold;
    },
    release(hold) {
      safely(() => endHold(hold as object, undefined));
      return backend.release(hold);
    },
  };
}

/** One acquire call's wait span, its metrics, and the hold it leads to. */
class Wait<H> {
  #t: Tools;
  #backend: Backend<H, void | Promise<void>>;
  #labels: Attributes;
  #name: string;
  #span: Span;
  #context: Context;
  #at = performance.now();

  constructor(
    t: Tools,
    backend: Backend<H, void | Promise<void>>,
    about: LockAbout,
    mode: LockMode,
  ) {
    this.#t = t;
    this.#backend = backend;
    this.#name = about.name;
    this.#labels = { backend: backend.system, kind: about.kind, mode };
    if (nameInMetrics) this.#labels.name = about.name;
    this.#context = t.active();
    this.#span = t.startSpan(`${NS}.wait`, this.#attributes(), this.#context);
    t.waiting.add!(1, this.#labels);
  }

  #attributes(): Attributes {
    const attributes: Attributes = {};
    for (const [key, value] of Object.entries(this.#labels)) {
      attributes[`${NS}.${key}`] = value;
    }
    attributes[`${NS}.name`] = this.#name;
    return attributes;
  }

  /** Ends the wait with `outcome`; starts the hold span when granted. */
  end(outcome: string, hold?: H, error?: unknown): void {
    const t = this.#t;
    const span = this.#span;
    span.setAttribute(`${NS}.outcome`, outcome);
    if (outcome === "error") {
      span.setStatus({ code: STATUS_ERROR, message: String(error) });
    }
    if (outcome === "busy" || outcome === "timeout") this.#seeHolder();
    span.end();
    const labels = { ...this.#labels, outcome };
    t.waiting.add!(-1, this.#labels);
    t.waitSeconds.record!((performance.now() - this.#at) / 1000, labels);
    t.acquisitions.add!(1, labels);
    if (hold !== undefined) this.#startHold(hold);
  }

  #seeHolder(): void {
    const holder = this.#backend.holderOf?.();
    if (holder === undefined) return;
    this.#span.setAttribute(`${NS}.holder.pid`, holder.pid);
    this.#span.setAttribute(`${NS}.holder.host`, holder.hostname);
  }

  #startHold(hold: H): void {
    const attributes = this.#attributes();
    const slot = (hold as { slot?: number }).slot;
    if (typeof slot === "number") attributes[`${NS}.slot`] = slot;
    const span = this.#t.startSpan(`${NS}.hold`, attributes, this.#context);
    const at = performance.now();
    holdSpans.set(hold as object, {
      span,
      at,
      t: this.#t,
      labels: this.#labels,
    });
    const lost = this.#backend.lostSignal?.(hold);
    lost?.addEventListener("abort", () => {
      if (!holdSpans.has(hold as object)) return; // released first
      safely(() => {
        this.#t.lost.add!(1, this.#labels);
        endHold(hold as object, lost.reason);
      });
    }, { once: true });
  }
}

/** Ends the hold span of `hold`, with an error status when it was lost. */
function endHold(hold: object, lostReason: unknown): void {
  const held = holdSpans.get(hold);
  if (held === undefined) return;
  holdSpans.delete(hold);
  const { span, at, t, labels } = held;
  if (lostReason !== undefined) {
    const message = lostReason instanceof Error
      ? lostReason.message
      : String(lostReason);
    span.setStatus({ code: STATUS_ERROR, message });
    span.setAttribute(`${NS}.lost`, true);
  }
  span.end();
  t.holdSeconds.record!((performance.now() - at) / 1000, labels);
}

/**
 * Runs `fn` inside a new span `name` of the active trace, giving it the
 * span's W3C `traceparent`; `fn(undefined)` when OpenTelemetry is off.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (traceparent: string | undefined) => Promise<T>,
): Promise<T> {
  const t = telemetry();
  const span = t && safely(() => t.startSpan(name, attributes, t.active()));
  if (!t || !span) return await fn(undefined);
  const { traceId, spanId, traceFlags } = span.spanContext();
  const flags = traceFlags.toString(16).padStart(2, "0");
  const traceparent = `00-${traceId}-${spanId}-${flags}`;
  try {
    return await t.run(
      t.active().setValue(SPAN_KEY, span),
      () => fn(traceparent),
    );
  } catch (error) {
    safely(() =>
      span.setStatus({ code: STATUS_ERROR, message: String(error) })
    );
    throw error;
  } finally {
    safely(() => span.end());
  }
}
