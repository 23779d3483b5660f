// The breaks that `deno task mutants` applies, one at a time: each replaces
// one exact piece of a library file (it must occur there once) and names
// the test files that must then fail. A fix for a break that went unnoticed
// adds its mutant here.

/** One break of the library, and the tests that should catch it. */
export interface Mutant {
  /** A short name, to run it alone: `deno task mutants <id>`. */
  id: string;
  /** What the break does to the promised behaviour. */
  why: string;
  /** The file, relative to the project root. */
  file: string;
  /** The exact text replaced (it must occur once in the file). */
  find: string;
  replace: string;
  /** The test files that must fail with the break. */
  tests: string[];
  /** Only the tests of those files whose name has this text (`--filter`). */
  filter?: string;
}

export const MUTANTS: Mutant[] = [
  {
    id: "same-file",
    why: "a lock taken on a file that left its path counts as held",
    file: "_file/_lock_file.ts",
    find: "info = statIfSameFile(current, path);",
    replace: "info = current.statSync();",
    tests: ["tests/regressions_test.ts"],
    filter: "notices at once that the lock file was replaced",
  },
  {
    id: "step-aside",
    why: "a process on a streak never steps aside for a marked waiter",
    file: "_file/_hold.ts",
    find: "Date.now() - mark.at < MARK_TTL_MS",
    replace: "Date.now() - mark.at < 0",
    tests: ["tests/fairness_test.ts", "tests/regressions_test.ts"],
    filter: "steps aside at its release",
  },
  {
    id: "owner-kept",
    why: "the owner record is not emptied at release",
    file: "_file/_record.ts",
    find: "    writeAll(file, EMPTY_OWNER);",
    replace: "    void EMPTY_OWNER;",
    tests: ["tests/regressions_test.ts"],
  },
  {
    id: "early-token",
    why: "the fencing token is taken before the wait, not at the grant",
    file: "postgres/_sql.ts",
    find: "SET lock_timeout = ${lockTimeoutMs}; ` +",
    replace: "SET lock_timeout = ${lockTimeoutMs}; SELECT ${token}; ` +",
    tests: ["tests/pg_test.ts"],
    filter: "fencing token is taken at the grant",
  },
  {
    id: "cli-no-signal",
    why: "the CLI does not handle a signal while it waits (killed by it)",
    file: "cli.ts",
    find: "    Deno.addSignalListener(signal, listener);\n    return [signal",
    replace: "    return [signal",
    tests: ["tests/cli_test.ts"],
  },
  {
    id: "only-release-wakes",
    why: "a waiter wakes for a release only, not when its file leaves the path",
    file: "_file/_watch.ts",
    find:
      '      else if (event !== "modify") wake("change");\n      else if (!stillAtPath()) wake("change");\n',
    replace: "      else void stillAtPath;\n",
    tests: ["tests/regressions_test.ts"],
    filter: "renamed away",
  },
  {
    id: "no-last-try",
    why: "no last try when the timeout is up",
    file: "_file/_acquire.ts",
    find: "if (this.#isHead() && this.attempt()) return true;",
    replace: "if (this.#isHead() && false) return true;",
    tests: ["tests/lock_test.ts", "tests/file_test.ts"],
  },
  {
    id: "settle-past-deadline",
    why: "a new watcher's settle makes a call wait past its timeout",
    file: "_file/_watch.ts",
    find: "if (settleLeft(absolutePath) > 0) return false;",
    replace: "while (settleLeft(absolutePath) > 0);",
    tests: ["tests/regressions_test.ts"],
    filter: "short timeout",
  },
  {
    id: "mark-unchecked",
    why: "the waiting mark is renewed without checking the magic",
    file: "_file/_record.ts",
    find: "  if (current === undefined) return;\n  if (mark !== null",
    replace: "  void current;\n  if (mark !== null",
    tests: ["tests/regressions_test.ts"],
  },
  {
    id: "liveness-off",
    why: "readLockOwner reports a dead holder's record as the owner",
    file: "owner.ts",
    find: "if (local && isProcessAlive(record.pid) === false) return null;",
    replace: "void local;",
    tests: ["tests/owner_test.ts"],
  },
  {
    id: "sleep-not-stopped",
    why: "a wake-up does not stop the user's sleep function",
    file: "_file/_waiters.ts",
    find: "stop?.abort(WOKEN);",
    replace: "void WOKEN;",
    tests: ["tests/lock_test.ts"],
  },
  {
    id: "default-delay",
    why: "the default first pause is not fasteners' 10 ms",
    file: "_core/_options.ts",
    find: "export const DEFAULT_DELAY_MS = 10;",
    replace: "export const DEFAULT_DELAY_MS = 20;",
    tests: ["tests/lock_test.ts"],
  },
  {
    id: "mark-kept",
    why: "a call that gives up leaves its waiting mark",
    file: "_file/_acquire.ts",
    find: "if (this.#file !== undefined) this.#mark?.clear();",
    replace: "if (this.#file !== undefined) this.#mark?.stop();",
    tests: ["tests/regressions_test.ts"],
    filter: "renews its mark every 2 s",
  },
  {
    id: "mark-not-renewed",
    why: "a waiting call never renews its mark (it expires after 5 s)",
    file: "_file/_mark.ts",
    find: "      writeMark(this.#file, this.#mark);\n    }, MARK_REFRESH_MS);",
    replace: "    }, MARK_REFRESH_MS);",
    tests: ["tests/regressions_test.ts"],
    filter: "renews its mark every 2 s",
  },
  {
    id: "abort-grant-kept",
    why:
      "an abort does not end the session: a grant that wins the race stays held",
    file: "postgres/_session.ts",
    find: "    connection.destroy();\n    return ABORTED;",
    replace: "    return ABORTED;",
    tests: ["tests/pg_ordinary_test.ts"],
    filter: "300 aborts racing a grant (url)",
  },
  {
    id: "blind-to-rename-over",
    why: "a waiter ignores a file renamed over the path (only 'modify')",
    file: "_file/_watch.ts",
    find: 'else if (!stillAtPath()) wake("change");',
    replace: "else void stillAtPath;",
    tests: ["tests/regressions_test.ts"],
    filter: "renamed over the path while it keeps",
  },
  {
    id: "no-heartbeat",
    why: "a holder's lease is never renewed: a quiet holder loses its lock",
    file: "postgres/_lease.ts",
    find: "void this.#beat();",
    replace: "void 0;",
    tests: ["tests/pg_lease_test.ts"],
    filter: "a stalled middlebox",
  },
  {
    id: "clock-ignored",
    why:
      "isValid() trusts the timers: a holder paused past its lease is told it still holds",
    file: "postgres/_lease.ts",
    find: "if (now >= this.#validUntil) {",
    replace: "if (false) {",
    tests: ["tests/pg_lease_test.ts"],
    filter: "event loop blocked past the lease",
  },
  {
    id: "no-idle-timeout",
    why:
      "the server never ends a silent holder's session: a stalled middlebox keeps the lock forever",
    file: "postgres/_sql.ts",
    find: '["idle_session_timeout", Math.ceil(lease)],',
    replace: '["idle_session_timeout", 0],',
    tests: ["tests/pg_lease_test.ts"],
    filter: "a stalled middlebox",
  },
  {
    id: "release-unbounded",
    why: "release() waits for an unlock that cannot reach the server",
    file: "postgres/_session.ts",
    find: "const ms = Math.min(lease.ms, RELEASE_MS);",
    replace: "const ms = Infinity;",
    tests: ["tests/pg_lease_test.ts"],
    filter: "release() during a stall",
  },
  {
    id: "lease-from-send",
    why:
      "the lease of a grant after a long wait starts from the send time: the wait reads as a loss",
    file: "postgres/_session.ts",
    find: "if (!Lease.proofDue(sentAt, lease)) return sentAt;",
    replace: "return sentAt;",
    tests: ["tests/pg_ordinary_test.ts"],
    filter: "every kind waits 3 leases over a 5 ms link and gets the lock (url",
  },
  {
    id: "lost-session-kept",
    why:
      "a lost hold's session is not ended: the server still grants the lock its holder calls lost",
    file: "postgres/_lease.ts",
    find:
      "    this.lost.abort(this.#lostError(reason));\n    this.#connection.destroy();",
    replace: "    this.lost.abort(this.#lostError(reason));",
    tests: ["tests/pg_ordinary_test.ts"],
    filter: "blocked for 0.95 of its lease",
  },
  {
    id: "one-slot-too-many",
    why: "the file semaphore lets in one more holder than its slots",
    file: "_file/_backend.ts",
    find: "{ length: slots },",
    replace: "{ length: slots + 1 },",
    tests: ["tests/semaphore_test.ts"],
  },
  {
    id: "gate-kept",
    why: "the semaphore's gate is never left: the next caller waits forever",
    file: "_core/_semaphore.ts",
    find: "await gate.release(gateHold);",
    replace: "void gateHold;",
    tests: ["tests/semaphore_test.ts"],
    filter: "leave no slot and no gate taken",
  },
  {
    id: "give-up-keeps-next-asleep",
    why: "when a call of this process gives up, the next one sleeps on",
    file: "_file/_acquire.ts",
    find: 'if (wasHead && (!this.held || shareable)) next?.wake("change");',
    replace: 'if (wasHead && shareable) next?.wake("change");',
    tests: ["tests/promises_test.ts"],
    filter: "gives up",
  },
  {
    id: "jump-the-queue",
    why: "a new call of this process tries before the calls queued before it",
    file: "_file/_acquire.ts",
    find: "return !this.mayWait || this.#state.mayTryAtOnce();",
    replace: "return true;",
    tests: ["tests/promises_test.ts"],
    filter: "arrival order",
  },
  {
    id: "handle-releases-twice",
    why: "a scoped handle releases again without checking that it still holds",
    file: "_core/_holds.ts",
    find:
      "      this.writer === hold || this.readers.includes(hold)\n        ? this.#drop(hold)\n        : undefined;",
    replace: "      this.#drop(hold);",
    tests: ["tests/promises_test.ts"],
    filter: "twice",
  },
  {
    id: "since-cached",
    why: "the owner's since is kept from an earlier hold",
    file: "_file/_record.ts",
    find: '`${ownerPrefix}${new Date().toISOString()}"}`,',
    replace:
      '((globalThis as { since?: string }).since ??=\n      `${ownerPrefix}${new Date().toISOString()}"}`),',
    tests: ["tests/promises_test.ts"],
    filter: "since",
  },
  {
    id: "decorator-drops-signal",
    why: "a decorated call ignores its signal",
    file: "_core/_decorate.ts",
    find: "resolveAcquireOptions(acquireOptions);",
    replace:
      "resolveAcquireOptions(acquireOptions);\n  delete acquireOptions.signal;",
    tests: ["tests/promises_test.ts"],
    filter: "signal",
  },
  {
    id: "semaphore-fresh-deadline",
    why: "the slot wait gets a fresh deadline after the gate",
    file: "_core/_semaphore.ts",
    find:
      '      const deadline = performance.now() + (options.timeout ?? Infinity);\n      const gateHold = await gate.acquire("exclusive", options, objectSignal);\n      if (gateHold === undefined) return undefined;\n',
    replace:
      '      const gateHold = await gate.acquire("exclusive", options, objectSignal);\n      if (gateHold === undefined) return undefined;\n      const deadline = performance.now() + (options.timeout ?? Infinity);\n',
    tests: ["tests/promises_test.ts"],
    filter: "semaphore call",
  },
  {
    id: "cli-no-long-command",
    why: "flock(1)'s FILE --command CMD is not recognised",
    file: "_cli/_args.ts",
    find: 'rest[0] === "-c" || rest[0] === "--command"',
    replace: 'rest[0] === "-c"',
    tests: ["tests/promises_test.ts"],
    filter: "--command",
  },
  {
    id: "cli-shared-sticks",
    why: "-s then -x stays shared",
    file: "_cli/_args.ts",
    find: 'parsed.shared = setting === "shared";',
    replace: 'parsed.shared ||= setting === "shared";',
    tests: ["tests/promises_test.ts"],
    filter: "--command",
  },
  {
    id: "unlock-fail-kept",
    why: "a failed unlock leaves the connection open",
    file: "postgres/_session.ts",
    find:
      "    connection.destroy();\n    return;\n  }\n  await connection.finish(true);",
    replace: "    return;\n  }\n  await connection.finish(true);",
    tests: ["tests/pg_lease_test.ts"],
    filter: "failed unlock",
  },
  {
    id: "wrong-slot-released",
    why: "a semaphore releases its hold under slot 0's name",
    file: "_core/_semaphore.ts",
    find: "release: (held) => slots[held.slot].release(held.hold),",
    replace: "release: (held) => slots[0].release(held.hold),",
    tests: ["tests/promises_test.ts"],
    filter: "released semaphore slot",
  },
  {
    id: "connect-unbounded",
    why: "connecting to PostgreSQL is not bounded by the call",
    file: "postgres/_connect.ts",
    find: '      ms,\n      signal,\n      "connecting",',
    replace: '      Infinity,\n      signal,\n      "connecting",',
    tests: ["tests/pg_lease_test.ts"],
    filter: "not PostgreSQL",
  },
  {
    id: "reader-token",
    why: "a read lock takes a transaction id as a token",
    file: "postgres/_sql.ts",
    find:
      'const token = mode === "shared" ? "NULL" : "pg_current_xact_id()::text";',
    replace: 'const token = "pg_current_xact_id()::text";',
    tests: ["tests/pg_test.ts"],
    filter: "takes no transaction id",
  },
  {
    id: "watch-outlives-call",
    why: "a call given up leaves its watcher, which keeps the process alive",
    file: "_file/_acquire.ts",
    find: "this.#watch.stop();\n    const queue",
    replace: "const queue",
    tests: ["tests/regressions_test.ts"],
    filter: "disposes its waiting",
  },
  {
    id: "timer-overflow",
    why: "a wait longer than the longest timer spins on 1 ms timers",
    file: "_file/_waiters.ts",
    find: "const timerMs = Math.min(ms, MAX_TIMER_MS);",
    replace: "const timerMs = ms;",
    tests: ["tests/promises_test.ts"],
    filter: "30 days",
  },
  {
    id: "states-kept",
    why: "the state of every lock path is kept forever",
    file: "_file/_waiters.ts",
    find:
      "if (idle && now - state.lastRelease > IDLE_STATE_MS) states.delete(path);",
    replace: "void idle;",
    tests: ["tests/promises_test.ts"],
    filter: "flat over",
  },
  {
    id: "cli-hup-frees",
    why:
      "signals other than INT and TERM end the CLI and free its lock under the command",
    file: "cli.ts",
    find:
      ': ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM"];',
    replace: ': ["SIGINT", "SIGTERM"];',
    tests: ["tests/cli_test.ts"],
    filter: "SIGALRM leave",
  },
  {
    id: "no-writer-preference",
    why: "readers of other processes do not make way for a waiting writer",
    file: "_file/_hold.ts",
    find: "if (!isWriterWaiting(readMark(file))) return false;",
    replace: "return false;",
    tests: ["tests/promises_test.ts"],
    filter: "writer preference",
  },
  {
    id: "reader-mark-over-writer",
    why: "a waiting reader's mark replaces a waiting writer's",
    file: "_file/_record.ts",
    find:
      "if (mark !== null && !mark.writer && isWriterWaiting(current)) return;",
    replace: "void isWriterWaiting;",
    tests: ["tests/promises_test.ts"],
    filter: "writer preference",
  },
  {
    id: "lock-timeout-unclamped",
    why: "a timeout over 2^31-1 ms goes to the server as is (an error there)",
    file: "postgres/_session.ts",
    find: "Math.min(left, MAX_TIMER_MS)",
    replace: "left",
    tests: ["tests/pg_test.ts"],
    filter: "writer first",
  },
  {
    id: "url-connect-timeout-ignored",
    why: "the URL's connect_timeout is ignored (10 s instead)",
    file: "postgres/_connect.ts",
    find: "return seconds > 0",
    replace: "return seconds < 0",
    tests: ["tests/pg_lease_test.ts"],
    filter: "not PostgreSQL",
  },
];
