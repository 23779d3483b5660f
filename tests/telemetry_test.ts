// Lock waits and holds as OpenTelemetry spans and metrics, checked on what
// child processes (OTEL_DENO=true) export to a real OTLP receiver of the
// test's own (HTTP, JSON) on loopback.
import assert from "node:assert/strict";
import { type Child, run, tempDir } from "./_helpers.ts";
import { type Attr, attr, otelChild, receiver } from "./_otlp.ts";

const ON = Number(Deno.version.deno.split(".")[1]) >= 9; // Deno 2.9+
const CLI = new URL("../cli.ts", import.meta.url).pathname;

const ns = (t: string) => BigInt(t);

Deno.test({
  name:
    "a contended wait span covers the other process's hold; a timeout and a failed try say so",
  ignore: !ON,
}, async () => {
  await using dir = await tempDir();
  await using otlp = await receiver();
  const path = `${dir.path}/a.lock`;
  await using holder = otelChild(otlp.env, ["hold", path, "400"]);
  await holder.waitFor("acquired");
  await using waiter = otelChild(otlp.env, ["wait", path]);
  await waiter.waitFor("done");
  await holder.waitFor("done");
  await using holder2 = otelChild(otlp.env, ["hold", path, "600"]);
  await holder2.waitFor("acquired");
  await using trier = otelChild(otlp.env, ["try", path]);
  await trier.waitFor("done");
  for (const c of [holder, waiter, holder2, trier]) await (c as Child).end();
  const spans = otlp.spans();
  const holds = spans.filter((s) => s.name === "process_lock.hold");
  const waits = spans.filter((s) => s.name === "process_lock.wait");
  const firstHold = holds.sort((a, b) =>
    Number(ns(a.startTimeUnixNano) - ns(b.startTimeUnixNano))
  )[0];
  const contended = waits.find((w) =>
    attr(w, "outcome") === "acquired" &&
    ns(w.endTimeUnixNano) - ns(w.startTimeUnixNano) > 200_000_000n
  );
  assert.ok(
    contended,
    JSON.stringify(waits.map((w) =>
      attr(w, "outcome")
    )),
  );
  assert.ok(ns(contended.startTimeUnixNano) < ns(firstHold.endTimeUnixNano));
  assert.ok(ns(contended.endTimeUnixNano) >= ns(firstHold.endTimeUnixNano));
  assert.equal(attr(firstHold, "kind"), "lock");
  assert.equal(attr(firstHold, "backend"), "file");
  const outcomes = waits.map((w) => attr(w, "outcome")).sort();
  assert.ok(
    outcomes.includes("busy") && outcomes.includes("timeout"),
    String(outcomes),
  );
  const busy = waits.find((w) => attr(w, "outcome") === "busy")!;
  assert.ok(Number(attr(busy, "holder.pid")) > 0, JSON.stringify(busy));
});

Deno.test(
  { name: "the metrics count the acquisitions made", ignore: !ON },
  async () => {
    await using dir = await tempDir();
    await using otlp = await receiver();
    await using child = otelChild(otlp.env, [
      "times",
      `${dir.path}/m.lock`,
      "7",
    ]);
    await child.waitFor("done");
    await child.end();
    const acquired = otlp.points("process_lock.acquisitions").filter((p) =>
      p.attributes.some((a: Attr) =>
        a.key === "outcome" && a.value.stringValue === "acquired"
      )
    );
    assert.equal(
      acquired.reduce((n, p) => n + Number(p.asInt ?? p.asDouble), 0),
      7,
    );
    const waits = otlp.points("process_lock.wait.duration");
    assert.equal(waits.reduce((n, p) => n + Number(p.count), 0), 7);
    const holds = otlp.points("process_lock.hold.duration");
    assert.equal(holds.reduce((n, p) => n + Number(p.count), 0), 7);
  },
);

Deno.test({
  name: "a Web Locks request makes a wait and a hold span of kind web_lock",
  ignore: !ON,
}, async () => {
  await using dir = await tempDir();
  await using otlp = await receiver();
  await using child = otelChild(otlp.env, ["request", dir.path]);
  await child.waitFor("done");
  await child.end();
  const kinds = otlp.spans().map((s) => `${s.name} ${attr(s, "kind")}`);
  assert.deepEqual(kinds.sort(), [
    "process_lock.hold web_lock",
    "process_lock.wait web_lock",
  ]);
});

Deno.test({
  name:
    "a read lock, a semaphore slot and a decorator say their kind, mode and slot",
  ignore: !ON,
}, async () => {
  await using dir = await tempDir();
  await using otlp = await receiver();
  await using child = otelChild(otlp.env, ["kinds", dir.path]);
  await child.waitFor("done");
  await child.end();
  const holds = otlp.spans().filter((s) => s.name === "process_lock.hold")
    .map((s) => [attr(s, "kind"), attr(s, "mode"), attr(s, "slot")]);
  assert.deepEqual(holds.map(String).sort(), [
    "decorator,exclusive,",
    "rwlock,shared,",
    "semaphore,exclusive,0",
  ]);
});

Deno.test({
  name: "the metrics carry the lock's name only when asked",
  ignore: !ON,
}, async () => {
  await using dir = await tempDir();
  await using otlp = await receiver();
  await using plain = otelChild(otlp.env, ["times", `${dir.path}/p.lock`, "1"]);
  await plain.waitFor("done");
  await using named = otelChild(otlp.env, ["named", `${dir.path}/n.lock`]);
  await named.waitFor("done");
  await plain.end();
  await named.end();
  const names = otlp.points("process_lock.acquisitions").map((p) =>
    p.attributes.find((a: Attr) => a.key === "name")?.value.stringValue
  );
  assert.deepEqual(names.sort(), [`${dir.path}/n.lock`, undefined]);
});

Deno.test({
  name: "the command line's command gets a TRACEPARENT of the hold's trace",
  ignore: !ON || Deno.build.os === "windows",
}, async () => {
  await using dir = await tempDir();
  await using otlp = await receiver();
  const r = await run(Deno.execPath(), [
    "run",
    "--quiet",
    "--allow-read",
    "--allow-write",
    "--allow-run",
    "--allow-net",
    "--allow-env",
    "--allow-sys=hostname",
    CLI,
    `${dir.path}/c.lock`,
    "sh",
    "-c",
    "echo $TRACEPARENT",
  ], otlp.env);
  assert.equal(r.code, 0, r.stderr);
  const traceparent = r.stdout.trim();
  assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  const hold = otlp.spans().find((s) => s.name === "process_lock.hold")!;
  assert.equal(traceparent.split("-")[1], hold.traceId);
});
