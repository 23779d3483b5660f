// Copyright 2026 the @locks/process-lock authors. MIT license.
// This module is browser incompatible.

/**
 * A `flock(1)`-style command line tool: run a command while holding a lock,
 * on every platform Deno runs on, and say who holds the lock when it is busy.
 *
 * ```sh
 * deno run -A jsr:@locks/process-lock/cli [options] <lockfile> <command> [args...]
 * deno run -A jsr:@locks/process-lock/cli [options] <lockfile> -c <shell command>
 * deno install -g -A -n process-lock jsr:@locks/process-lock/cli
 * ```
 *
 * Options and exit statuses are `flock(1)`'s, typed as there (`-nx`,
 * `-w5`, `--timeout=5`, `--`): `-x`/`-e` exclusive (the default), `-s`
 * shared, `-n` no waiting, `-w SECONDS` a timeout, `-E N` the exit status
 * on conflict or timeout (default 1), `-c COMMAND` through the shell, and
 * `-o`, `-F` accepted. Beyond `flock(1)`: `--postgres [URL]` locks a name on
 * PostgreSQL, on every host (without a URL, `DATABASE_URL`); `--slots N`
 * (`-j N`, as in `sem -j`) holds one of N slots of a semaphore on the lock
 * file (or the name), so that at most N commands run at once; `--verbose`
 * says how long it waited, what it got and who held the lock; `--status`
 * (with `--json`, one line of JSON) says who holds the lock, how and how
 * many wait, and exits 0 when it is free, 1 when it is held; `-V` prints
 * the version. `--help` lists them all. With `OTEL_DENO=true` the wait,
 * hold and command are spans of one trace, and the command gets its
 * `TRACEPARENT`. A directory or a read-only file can
 * be the lock.
 *
 * Exit status: the command's own; 128+N if it died of signal N (also when
 * SIGINT or SIGTERM ends the wait); the conflict code; 64 on a usage error;
 * 66 when the lock cannot be opened; 69 when PostgreSQL cannot be reached
 * (one line on stderr); 75 when the PostgreSQL lock was lost while the
 * command ran (its lease ran out or its session ended: the command is sent
 * SIGTERM, then SIGKILL after 5 s, so that it does not run on unprotected);
 * 126 or 127 when the command cannot be run. While the command runs, the
 * signals that would end this process (INT, TERM, HUP, QUIT, USR1, USR2,
 * ALRM) are ignored, so that the lock is held until the command has
 * exited: sent to the process group, as a terminal, `timeout(1)` or
 * systemd do, they reach the command once. While it waits, a signal ends
 * the wait at once.
 * While it waits longer than a second with stderr on a terminal, one status
 * line says for how long, and who holds the lock.
 *
 * One difference from `flock(1)`: the lock belongs to this process, not to
 * the command (Deno cannot pass an open file to a child process). When this
 * process is killed with SIGKILL, the lock is freed while the command may
 * run on: stop it with SIGTERM or SIGINT, or use `flock(1)` where that case
 * matters. Under npx, signals sent to npx do not reach Deno.
 *
 * @example Embedding the command line in a program
 * ```ts
 * import { main } from "@locks/process-lock/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/job.lock`;
 * assert.equal(await main([path, Deno.execPath(), "eval", "0"]), 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { type AcquireOptions, InterProcessLock } from "./lock.ts";
import { InterProcessReaderWriterLock } from "./rwlock.ts";
import { InterProcessSemaphore } from "./semaphore.ts";
import { readLockOwner, readLockStatus } from "./owner.ts";
import config from "./deno.json" with { type: "json" };
import { parse, type Parsed, UsageError } from "./_cli/_args.ts";
import { USAGE } from "./_cli/_usage.ts";
import { withLockSpan } from "./telemetry.ts";
import {
  type Holder,
  holderText,
  showStatus,
  type Status,
} from "./_cli/_status.ts";

/** The exit status of a usage error (EX_USAGE). */
const EX_USAGE = 64;
/** The exit status when the lock file cannot be opened (EX_NOINPUT). */
const EX_NOINPUT = 66;
/** The exit status when PostgreSQL cannot be reached (EX_UNAVAILABLE). */
const EX_UNAVAILABLE = 69;
/** The exit status when the lock was lost under the command (EX_TEMPFAIL). */
const EX_LOST = 75;
/** How long a command may take to stop after SIGTERM on a lost lock. */
const LOST_GRACE_MS = 5_000;

/** As in flock(1), a directory or a read-only file can be the lock. */
const ANY_FILE = { anyFile: true } as const;

/** Signal numbers by name: Linux's, and macOS's where they differ. */
const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  ...(Deno.build.os === "darwin"
    ? {
      SIGEMT: 7,
      SIGBUS: 10,
      SIGSYS: 12,
      SIGURG: 16,
      SIGSTOP: 17,
      SIGTSTP: 18,
      SIGCONT: 19,
      SIGCHLD: 20,
      SIGTTIN: 21,
      SIGTTOU: 22,
      SIGIO: 23,
      SIGXCPU: 24,
      SIGXFSZ: 25,
      SIGVTALRM: 26,
      SIGPROF: 27,
      SIGWINCH: 28,
      SIGINFO: 29,
      SIGUSR1: 30,
      SIGUSR2: 31,
    }
    : {
      SIGBUS: 7,
      SIGUSR1: 10,
      SIGUSR2: 12,
      SIGSTKFLT: 16,
      SIGCHLD: 17,
      SIGCONT: 18,
      SIGSTOP: 19,
      SIGTSTP: 20,
      SIGTTIN: 21,
      SIGTTOU: 22,
      SIGURG: 23,
      SIGXCPU: 24,
      SIGXFSZ: 25,
      SIGVTALRM: 26,
      SIGPROF: 27,
      SIGWINCH: 28,
      SIGIO: 29,
      SIGPOLL: 29,
      SIGPWR: 30,
      SIGSYS: 31,
    }),
};

/**
 * Who holds the lock `lockfile` (with `slots`, each slot `<lockfile>.<i>`)
 * as `holdersOf` tells: "held by ...", or "" when it cannot be told.
 */
async function describeHolders(
  holdersOf: (name: string) => Promise<Holder[]>,
  lockfile: string,
  slots: number | undefined,
): Promise<string> {
  const names = slots === undefined
    ? [lockfile]
    : Array.from({ length: slots }, (_, slot) => `${lockfile}.${slot}`);
  try {
    const all = await Promise.all(names.map(holdersOf));
    const held = all.flatMap((holders, slot) =>
      holders.map((holder) =>
        `${slots === undefined ? "" : `slot ${slot}: `}${holderText(holder)}`
      )
    );
    return held.length === 0 ? "" : `held by ${held.join(", ")}`;
  } catch {
    return "";
  }
}

/** The holder that the owner record of the file `name` names, if any. */
function fileHolders(name: string): Promise<Holder[]> {
  const owner = readLockOwner(name);
  return Promise.resolve(owner === null ? [] : [owner]);
}

/**
 * Runs the command line: parses `args` as `flock(1)` would, takes the lock,
 * runs the command with inherited standard streams, and releases the lock
 * when the command has exited.
 *
 * @param args The arguments after the program name.
 * @returns The exit status to end with (see the module documentation).
 *
 * @example Usage
 * ```ts
 * import { main } from "@locks/process-lock/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/job.lock`;
 * assert.equal(await main(["-n", path, Deno.execPath(), "eval", "0"]), 0);
 * assert.equal(await main(["--bogus"]), 64);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function main(args: string[]): Promise<number> {
  let parsed: Parsed | undefined;
  let lock: CliLock;
  try {
    parsed = parse(args);
    if (parsed.help || parsed.version) {
      console.log(parsed.help ? USAGE : `process-lock ${config.version}`);
      return 0;
    }
    if (parsed.status) return await statusOrFailure(parsed);
    lock = await makeCliLock(parsed);
  } catch (error) {
    // The lock objects check the rest (the --postgres URL, the name).
    if (!(error instanceof UsageError || error instanceof TypeError)) {
      throw error;
    }
    const flag = error instanceof TypeError && parsed?.postgres !== undefined
      ? "--postgres: "
      : "";
    console.error(`process-lock: ${flag}${error.message} (try --help)`);
    return EX_USAGE;
  }
  const attributes = {
    "process_lock.name": parsed.lockfile,
    "process_lock.backend": parsed.postgres === undefined ? "file" : "postgres",
  };
  return await withLockSpan(
    "command",
    (traceparent) => lockAndRun(lock, parsed, traceparent),
    attributes,
  );
}

/** Waits for the lock, then runs the command while holding it. */
async function lockAndRun(
  lock: CliLock,
  parsed: Parsed,
  traceparent: string | undefined,
): Promise<number> {
  const started = performance.now();
  const outcome = await waitForLock(lock, parsed);
  if (outcome !== "acquired") return outcome;
  try {
    if (parsed.verbose) {
      say(
        `got ${lock.describeHeld()} on ${parsed.lockfile} after ${
          (performance.now() - started).toFixed(0)
        } ms`,
      );
    }
    return await run(parsed.command, lock.lost(), traceparent);
  } finally {
    await lock.release();
  }
}

/** Says why the lock cannot be read or taken; the exit status for it. */
function failure(error: unknown): number {
  say((error as Error).message);
  return (error as Error).name === "PostgresConnectionError"
    ? EX_UNAVAILABLE
    : EX_NOINPUT;
}

/** The status of the lock that `parsed` names, on its backend. */
async function readStatus(parsed: Parsed): Promise<Status> {
  if (parsed.postgres === undefined) return readLockStatus(parsed.lockfile);
  // Loaded only here: the file locks need no npm package.
  const pg = await import("./postgres/mod.ts");
  const timeout = parsed.timeoutMs || undefined;
  return await pg.readPostgresLockStatus(parsed.lockfile, {
    url: parsed.postgres,
    timeout,
  });
}

/** --status: 0 when free, 1 when held, or the failure's exit status. */
async function statusOrFailure(parsed: Parsed): Promise<number> {
  try {
    return await showStatus(parsed, readStatus);
  } catch (error) {
    if (error instanceof TypeError) throw error; // a usage error
    return failure(error);
  }
}

/** The signals that end a wait for the lock. */
const SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM"];

/**
 * The signals that would end this process, and so free the lock, while the
 * command runs on: ignored while it runs. Sent to the process group (Ctrl-C,
 * `timeout(1)`, systemd) they reach the command once; sent to this process
 * alone, under flock(1) they would end only flock(1), not the command.
 */
const HELD: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM"];

function say(line: string): void {
  console.error(`process-lock: ${line}`);
}

/** The lock the command line takes, whatever its backend and mode. */
interface CliLock {
  take(options: AcquireOptions): Promise<boolean>;
  release(): unknown;
  /** Who holds the lock, as far as can be told ("" when unknown). */
  describeOwner(): Promise<string>;
  /** Aborts when a held lock is lost (PostgreSQL only). */
  lost(): AbortSignal | undefined;
  /** What is held ("slot 2 of 4"), for --verbose. */
  describeHeld(): string;
}

/** Makes the lock of the chosen backend (file or PostgreSQL) and kind. */
function makeCliLock(parsed: Parsed): Promise<CliLock> | CliLock {
  return parsed.postgres === undefined
    ? makeFileLock(parsed)
    : makePostgresLock(parsed, parsed.postgres);
}

/** What the command holds, for --verbose. */
function describeHeld(parsed: Parsed, slot: number | undefined): string {
  return parsed.slots !== undefined
    ? `slot ${slot} of ${parsed.slots}`
    : `the ${parsed.shared ? "shared" : "exclusive"} lock`;
}

async function makePostgresLock(
  parsed: Parsed,
  url: string,
): Promise<CliLock> {
  const { lockfile, shared, slots } = parsed;
  // Loaded only here: the file locks need no npm package.
  const pg = await import("./postgres/mod.ts");
  const options = { url };
  const describeOwner = () =>
    describeHolders(
      (name) => pg.readPostgresLockHolders(name, { url, timeout: 2_000 }),
      lockfile,
      slots,
    );
  if (slots !== undefined) {
    const semaphore = new pg.PostgresSemaphore(lockfile, { ...options, slots });
    return {
      take: (o) => semaphore.acquire(o),
      release: () => semaphore.release(),
      describeOwner,
      lost: () => semaphore.signal,
      describeHeld: () => describeHeld(parsed, semaphore.slot),
    };
  }
  const lock = shared
    ? new pg.PostgresReaderWriterLock(lockfile, options)
    : new pg.PostgresLock(lockfile, options);
  return {
    take: (o) =>
      lock instanceof pg.PostgresLock
        ? lock.acquire(o)
        : lock.acquireReadLock(o),
    release: () =>
      lock instanceof pg.PostgresLock ? lock.release() : lock.releaseReadLock(),
    describeOwner,
    lost: () => lock.signal,
    describeHeld: () => describeHeld(parsed, undefined),
  };
}

function makeFileLock(parsed: Parsed): CliLock {
  const { lockfile, shared, slots } = parsed;
  const lock = slots !== undefined
    ? new InterProcessSemaphore(lockfile, { slots })
    : shared
    ? new InterProcessReaderWriterLock(lockfile, ANY_FILE)
    : new InterProcessLock(lockfile, ANY_FILE);
  return {
    take: (o) =>
      lock instanceof InterProcessReaderWriterLock
        ? lock.acquireReadLock(o)
        : lock.acquire(o),
    release: () =>
      lock instanceof InterProcessReaderWriterLock
        ? lock.releaseReadLock()
        : lock.release(),
    describeOwner: () => describeHolders(fileHolders, lockfile, slots),
    lost: () => undefined,
    describeHeld: () =>
      describeHeld(
        parsed,
        lock instanceof InterProcessSemaphore ? lock.slot : undefined,
      ),
  };
}

/**
 * Waits for the lock as the options say, with a status line on a terminal;
 * SIGINT or SIGTERM end the wait.
 *
 * @returns "acquired", or the exit status to end with.
 */
async function waitForLock(
  lock: CliLock,
  parsed: Parsed,
): Promise<"acquired" | number> {
  const stopWaiting = new AbortController();
  let received: Deno.Signal = "SIGINT";
  const stopListening = listen(SIGNALS, (signal) => {
    received = signal;
    stopWaiting.abort();
  });
  const started = performance.now();
  const stopStatus = parsed.nonblock
    ? () => {}
    : statusLine(parsed.lockfile, lock);
  let acquired: boolean;
  try {
    acquired = await lock.take({
      blocking: !parsed.nonblock,
      timeout: parsed.timeoutMs,
      signal: stopWaiting.signal,
    });
  } catch (error) {
    if (!stopWaiting.signal.aborted) return failure(error);
    if (parsed.verbose) say(`${received} while waiting for the lock`);
    return 128 + SIGNAL_NUMBERS[received];
  } finally {
    stopStatus();
    stopListening();
  }
  if (acquired) return "acquired";
  if (parsed.verbose) {
    const waited = (performance.now() - started).toFixed(0);
    const holder = await lock.describeOwner();
    say(
      `${parsed.lockfile} is busy${holder ? `: ${holder}` : ""}; ${
        parsed.nonblock ? "not waiting (-n)" : `gave up after ${waited} ms`
      }`,
    );
  }
  return parsed.conflictCode;
}

/** Calls `onSignal` for each of `signals` until the returned stop is called. */
function listen(
  signals: Deno.Signal[],
  onSignal: (signal: Deno.Signal) => unknown,
): () => void {
  const listeners = signals.map((signal) => {
    const listener = () => onSignal(signal);
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  };
}

/**
 * Shows, when stderr is a terminal, one line saying how long the wait has
 * lasted and who holds the lock, once it lasts a second.
 *
 * @returns Stops it and clears the line.
 */
function statusLine(lockfile: string, lock: CliLock): () => void {
  if (!Deno.stderr.isTerminal()) return () => {};
  const started = performance.now();
  const write = (text: string) =>
    Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${text}`));
  let holder = "";
  let askedAt = -Infinity;
  const ticker = setInterval(() => {
    const waited = (performance.now() - started) / 1000;
    if (waited < 1) return;
    // Asked every 2 s at most (a PostgreSQL lock asks the server).
    if (performance.now() - askedAt >= 2_000) {
      askedAt = performance.now();
      lock.describeOwner().then((text) => holder = text);
    }
    write(
      `process-lock: waiting for ${lockfile} for ${waited.toFixed(0)} s${
        holder ? `, ${holder}` : ""
      }`,
    );
  }, 250);
  return () => {
    clearInterval(ticker);
    if (performance.now() - started >= 1000) write("");
  };
}

/**
 * Stops the child when `lost` aborts: SIGTERM, then SIGKILL after a grace
 * period.
 *
 * @returns What stops watching.
 */
function stopOnLoss(
  child: Deno.ChildProcess,
  lost: AbortSignal | undefined,
): () => void {
  let killer: ReturnType<typeof setTimeout> | undefined;
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // Already ended.
    }
  };
  const onLost = () => {
    say(`${(lost?.reason as Error)?.message}; stopping the command`);
    kill("SIGTERM");
    killer = setTimeout(() => kill("SIGKILL"), LOST_GRACE_MS);
  };
  if (lost?.aborted) onLost();
  else lost?.addEventListener("abort", onLost, { once: true });
  return () => {
    clearTimeout(killer);
    lost?.removeEventListener("abort", onLost);
  };
}

/**
 * Runs the command, holding on through the signals of HELD, and stops it
 * if `lost` aborts.
 *
 * @returns Its exit status, or EX_LOST when the lock was lost.
 */
async function run(
  command: string[],
  lost: AbortSignal | undefined,
  traceparent: string | undefined,
): Promise<number> {
  // Listening before the command starts: no signal finds this process
  // without a listener (which would end it and free the lock).
  const stopIgnoring = listen(HELD, () => {});
  try {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command[0], {
        args: command.slice(1),
        stdin: "inherit",
        stdout: "inherit",
        stderr: "inherit",
        env: traceparent === undefined ? undefined : {
          TRACEPARENT: traceparent,
        },
      }).spawn();
    } catch (error) {
      say(`cannot run ${command[0]}: ${(error as Error).message}`);
      return error instanceof Deno.errors.NotFound ? 127 : 126;
    }
    const stopWatching = stopOnLoss(child, lost);
    const status = await statusOf(child).finally(stopWatching);
    return lost?.aborted ? EX_LOST : status;
  } finally {
    stopIgnoring();
  }
}

/**
 * The command's exit status: its code, or 128+N when signal N ended it.
 * Deno names no real-time signal: its status then rejects with "Invalid
 * signal: N", which gives N.
 */
async function statusOf(child: Deno.ChildProcess): Promise<number> {
  try {
    const status = await child.status;
    if (status.signal === null) return status.code;
    return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
  } catch (error) {
    const n = /^Invalid signal: (\d+)$/.exec((error as Error).message)?.[1];
    if (n === undefined) throw error;
    return 128 + Number(n);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
