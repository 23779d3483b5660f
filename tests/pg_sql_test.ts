// The SQL text of the PostgreSQL locks, as strings (no server needed; the
// PostgreSQL tests run it against a real one).
import assert from "node:assert/strict";
import {
  lockStatement,
  setStatement,
  unlockStatement,
} from "../postgres/_sql.ts";

const KEEPALIVE = { idle: 10, interval: 5, count: 3 };
const SETTINGS = { keepalive: KEEPALIVE, lease: 25_000, version: 15 };

Deno.test("session settings: server timeouts off, the lease, the connection check, the keepalives", () => {
  assert.equal(
    setStatement(SETTINGS),
    "SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0; " +
      "SET idle_session_timeout = 25000; SET client_connection_check_interval = 1000; " +
      "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3",
  );
});

Deno.test("before PostgreSQL 14: no idle_session_timeout, no connection check", () => {
  const old = setStatement({ ...SETTINGS, version: 13 });
  assert.doesNotMatch(old, /idle_session_timeout|client_connection_check/);
  assert.match(old, /statement_timeout = 0/);
  // An unknown version is taken as the newest.
  assert.match(
    setStatement({ ...SETTINGS, version: 0 }),
    /idle_session_timeout/,
  );
});

Deno.test("a try: pg_try_advisory_lock, the token only for an exclusive lock", () => {
  assert.equal(
    lockStatement("SET x = 1", "exclusive", -42n, undefined),
    "SET x = 1; SELECT CASE WHEN pg_try_advisory_lock(-42) THEN coalesce(pg_current_xact_id()::text, '') END AS held",
  );
  assert.equal(
    lockStatement("SET x = 1", "shared", 7n, undefined),
    "SET x = 1; SELECT CASE WHEN pg_try_advisory_lock_shared(7) THEN coalesce(NULL, '') END AS held",
  );
});

Deno.test("a wait: lock_timeout, then the token taken after the grant in the same statement", () => {
  assert.equal(
    lockStatement("SET x = 1", "exclusive", 9n, 1500),
    "SET x = 1; SET lock_timeout = 1500; SELECT coalesce(pg_current_xact_id()::text, '') AS held " +
      "FROM (SELECT pg_advisory_lock(9)) AS granted",
  );
  // 0 is "no limit" to PostgreSQL: a wait without a timeout.
  assert.match(
    lockStatement("SET x = 1", "shared", 9n, 0),
    /SET lock_timeout = 0; SELECT coalesce\(NULL, ''\) AS held FROM \(SELECT pg_advisory_lock_shared\(9\)\)/,
  );
});

Deno.test("the unlock matches the mode", () => {
  assert.equal(
    unlockStatement("exclusive", 5n),
    "SELECT pg_advisory_unlock(5)",
  );
  assert.equal(
    unlockStatement("shared", -5n),
    "SELECT pg_advisory_unlock_shared(-5)",
  );
});
