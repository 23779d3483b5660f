// A lost PostgreSQL hold, as OpenTelemetry sees it: its hold span ends with
// an error status and the reason, and the lost counter counts it.
import assert from "node:assert/strict";
import { holderPid, pgTest, query, unique, url } from "./_pg_helpers.ts";
import { attr, otelChild, receiver } from "./_otlp.ts";

const ON = Number(Deno.version.deno.split(".")[1]) >= 9; // Deno 2.9+

if (ON) {
  pgTest(
    "telemetry: a lost hold's span has an error status; lost is counted",
    async () => {
      await using otlp = await receiver();
      const name = unique("otel-lost");
      await using child = otelChild(otlp.env, ["pg-lost", url, name]);
      await child.waitFor("acquired");
      const pid = await holderPid(name);
      await query(`SELECT pg_terminate_backend(${pid})`);
      await child.waitFor("lost");
      await child.end();
      const hold = otlp.spans().find((s) => s.name === "process_lock.hold")!;
      assert.equal(hold.status.code, 2, JSON.stringify(hold));
      assert.match(hold.status.message, /57P01|terminat/);
      assert.equal(attr(hold, "backend"), "postgres");
      const lost = otlp.points("process_lock.lost");
      assert.equal(
        lost.reduce((n, p) => n + Number(p.asInt ?? p.asDouble), 0),
        1,
      );
    },
  );
}
