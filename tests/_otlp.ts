// A receiver of OpenTelemetry data for the tests: OTLP over HTTP (JSON) on
// loopback, and what child processes sent it (spans, metric data points).
import { fixture } from "./_helpers.ts";

export type Attr = { key: string; value: Record<string, unknown> };
export interface Span {
  name: string;
  traceId: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attr[];
  status: { code: number; message: string };
}

/** An OTLP/HTTP JSON receiver on loopback. */
export function receiver() {
  const bodies: { path: string; body: Record<string, unknown[]> }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      bodies.push({ path: new URL(req.url).pathname, body: await req.json() });
      return Response.json({});
    },
  );
  const env = {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
  };
  return {
    env,
    spans(): Span[] {
      // deno-lint-ignore no-explicit-any
      return bodies.filter((b) => b.path === "/v1/traces").flatMap((b: any) =>
        // deno-lint-ignore no-explicit-any
        b.body.resourceSpans.flatMap((r: any) =>
          // deno-lint-ignore no-explicit-any
          r.scopeSpans.flatMap((s: any) => s.spans)
        )
      );
    },
    /** The data points of metric `name`. */
    // deno-lint-ignore no-explicit-any
    points(name: string): any[] {
      return bodies.filter((b) => b.path === "/v1/metrics")
        // deno-lint-ignore no-explicit-any
        .flatMap((b: any) => b.body.resourceMetrics)
        // deno-lint-ignore no-explicit-any
        .flatMap((r: any) => r.scopeMetrics.flatMap((s: any) => s.metrics))
        // deno-lint-ignore no-explicit-any
        .filter((m: any) => m.name === name)
        // deno-lint-ignore no-explicit-any
        .flatMap((m: any) => (m.sum ?? m.histogram).dataPoints);
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

export const attr = (span: Span, key: string) => {
  const value = span.attributes.find((a) => a.key === `process_lock.${key}`)
    ?.value;
  return value === undefined ? undefined : Object.values(value)[0];
};

/** The fixture otel.ts with `args`, exporting to the receiver of `env`. */
export function otelChild(env: Record<string, string>, args: string[]) {
  return fixture("otel.ts", args, {
    env,
    permissions: [
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-sys=hostname",
    ],
  });
}
