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
 * says how long it waited, what it got and who held the lock; `-V` prints
 * the version. `--help` lists them all. A directory or a read-only file can
 * be the lock.
 *
 * Exit status: the command's own; 128+N if it died of signal N (also when
 * SIGINT or SIGTERM ends the wait); the conflict code; 64 on a usage error;
 * 66 when the lock cannot be opened; 69 when PostgreSQL cannot be reached
 * (one line on stderr); 75 when the PostgreSQL lock was lost while the
 * command ran (its lease ran out or its session ended: the command is sent
 * SIGTERM, then SIGKILL after 5 s, so that it does not run on unprotected);
 * 126 or 127 when the command cannot be run. SIGINT and SIGTERM are passed on, and the lock is held until the
 * command has exited. Without `-w` a file lock is awaited in the kernel; a
 * signal ends that wait at once. While it waits longer than a second with
 * stderr on a terminal, one status line says for how long, and who holds
 * the lock.
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

import {
  type AcquireOptions,
  InterProcessLock,
  type LockOptions,
} from "./lock.ts";
import { InterProcessReaderWriterLock } from "./rwlock.ts";
import { InterProcessSemaphore } from "./semaphore.ts";
import { readLockOwner } from "./owner.ts";
import { ANY_FILE } from "./_options.ts";
import config from "./deno.json" with { type: "json" };

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

const USAGE = `Usage:
  process-lock [options] <lockfile|directory> <command> [args...]
  process-lock [options] <lockfile|directory> -c <shell command>
  process-lock --postgres [URL] [options] <name> <command> [args...]
  process-lock --slots N [options] <lockfile|name> <command> [args...]

Runs the command while holding a lock on <lockfile> (created if missing; an
existing directory or read-only file works too), or with --postgres, the
PostgreSQL advisory lock <name>. Options are flock(1)'s: -nx, -w5, -E7 and
--timeout=5 work as there.

Options:
  -x, -e, --exclusive           exclusive lock (the default)
  -s, --shared                  shared lock
  -n, --nonblock                fail at once if the lock is busy
  -w, --timeout, --wait SECS    give up after SECS (fractions allowed)
  -E, --conflict-exit-code N    exit status on conflict or timeout (default 1)
  -c, --command COMMAND         run COMMAND through the shell
  -o, --close                   accepted: the command never holds the lock's
                                file here
  -F, --no-fork                 accepted: Deno cannot become the command, so
                                this process stays and holds the lock
      --postgres [URL]          lock on PostgreSQL (any host): <lockfile> is
                                then a lock name; no URL: DATABASE_URL
  -j, --slots N                 hold one of N slots (a semaphore): at most N
                                commands at once on <lockfile> or <name>
      --verbose                 say how long it waited and who held the lock
  -V, --version                 print the version
  -h, --help                    print this help
  --                            end of the options

Exit status: the command's, 128+N if it died of signal N (or signal N ended
the wait), the conflict code on conflict or timeout, 64 on a usage error,
66 if the lock file cannot be opened, 69 if PostgreSQL cannot be reached,
75 if the PostgreSQL lock was lost while the command ran (it is sent SIGTERM,
then SIGKILL 5 s later), 126/127 if the command cannot be run.

Unlike flock(1), the lock belongs to this process, not to the command: if
this process is killed with SIGKILL, the lock is freed while the command may
run on. SIGINT and SIGTERM are passed on, and the lock is held until the
command exits. Under npx, signals sent to npx do not reach Deno: for
timeout(1), systemd or cron, run the installed command or deno run.`;

interface Parsed {
  postgres: string | undefined;
  slots: number | undefined;
  shared: boolean;
  nonblock: boolean;
  timeoutMs: number | undefined;
  conflictCode: number;
  verbose: boolean;
  help: boolean;
  version: boolean;
  lockfile: string;
  command: string[];
  /** A shell command given with -c, while parsing. */
  shell: string | undefined;
}

class UsageError extends Error {}

/** As in flock(1), a directory or a read-only file can be the lock. */
const ANY_FILE_OPTIONS = { [ANY_FILE]: true } as LockOptions;

/** What an option sets; `value` options take an argument. */
type Setting =
  | "exclusive"
  | "shared"
  | "nonblock"
  | "accepted"
  | "verbose"
  | "help"
  | "version"
  | { value: "timeout" | "conflict" | "command" | "postgres" | "slots" };

const SHORT: Record<string, Setting> = {
  x: "exclusive",
  e: "exclusive",
  s: "shared",
  n: "nonblock",
  o: "accepted",
  F: "accepted",
  h: "help",
  V: "version",
  w: { value: "timeout" },
  E: { value: "conflict" },
  c: { value: "command" },
  j: { value: "slots" },
};

const LONG: Record<string, Setting> = {
  "--exclusive": "exclusive",
  "--shared": "shared",
  "--nonblock": "nonblock",
  "--close": "accepted",
  "--no-fork": "accepted",
  "--verbose": "verbose",
  "--help": "help",
  "--version": "version",
  "--timeout": { value: "timeout" },
  "--wait": { value: "timeout" },
  "--conflict-exit-code": { value: "conflict" },
  "--command": { value: "command" },
  "--postgres": { value: "postgres" },
  "--slots": { value: "slots" },
};

/**
 * Parses the command line as flock(1) does: options first (grouped short
 * options, values attached or separate, `--name=value`), up to the lock
 * file or `--`; after the lock file, the command or `-c COMMAND`.
 */
function parse(args: string[]): Parsed {
  const parsed: Parsed = {
    postgres: undefined,
    slots: undefined,
    shared: false,
    nonblock: false,
    timeoutMs: undefined,
    conflictCode: 1,
    verbose: false,
    help: false,
    version: false,
    lockfile: "",
    command: [],
    shell: undefined,
  };
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    for (const { setting, flag, attached } of optionsIn(arg)) {
      apply(parsed, setting, flag, (optional) => {
        if (attached !== undefined) return attached;
        const next = args[i + 1];
        if (optional && (next === undefined || !optional(next))) return "";
        if (next === undefined) throw new UsageError(`${flag} needs a value`);
        i++;
        return next;
      });
    }
  }
  if (parsed.help || parsed.version) return parsed;
  if (parsed.postgres === "") parsed.postgres = databaseUrl();
  if (parsed.slots !== undefined && parsed.shared) {
    throw new UsageError("--slots takes one of N slots: -s does not apply");
  }
  parsed.lockfile = args[i++] ?? "";
  if (parsed.lockfile === "") {
    throw new UsageError(
      parsed.postgres === undefined
        ? "missing the lock file"
        : "missing the lock name",
    );
  }
  parsed.command = commandOf(args.slice(i), parsed.shell);
  return parsed;
}

/** An option as typed: what it sets, and a value attached to it. */
interface Typed {
  setting: Setting;
  flag: string;
  attached: string | undefined;
}

/**
 * The options in one argument: a long option (`--name` or `--name=value`),
 * or a group of short ones (`-nx`), where one that takes a value takes the
 * rest of the group (`-w5`, `-nE7`).
 */
function optionsIn(arg: string): Typed[] {
  if (arg.startsWith("--")) {
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const setting = LONG[flag] ?? unknownOption(flag);
    const attached = eq === -1 ? undefined : arg.slice(eq + 1);
    if (typeof setting === "string" && attached !== undefined) {
      throw new UsageError(`${flag} takes no value`);
    }
    return [{ setting, flag, attached }];
  }
  const typed: Typed[] = [];
  for (let k = 1; k < arg.length; k++) {
    const flag = `-${arg[k]}`;
    const setting = SHORT[arg[k]] ?? unknownOption(flag);
    if (typeof setting !== "string") {
      typed.push({ setting, flag, attached: arg.slice(k + 1) || undefined });
      break;
    }
    typed.push({ setting, flag, attached: undefined });
  }
  return typed;
}

function unknownOption(flag: string): never {
  throw new UsageError(`unknown option ${flag}`);
}

/**
 * Applies one option to `parsed`; `value(optional)` gives its value, or ""
 * when `optional` says the next argument is not one.
 */
function apply(
  parsed: Parsed,
  setting: Setting,
  flag: string,
  value: (optional?: (next: string) => boolean) => string,
): void {
  if (setting === "accepted") return;
  if (setting === "exclusive" || setting === "shared") {
    parsed.shared = setting === "shared";
  } else if (typeof setting === "string") {
    parsed[setting] = true;
  } else if (setting.value === "timeout") {
    parsed.timeoutMs = numberOf(flag, value(), 0, Infinity, false) * 1000;
  } else if (setting.value === "conflict") {
    parsed.conflictCode = numberOf(flag, value(), 0, 255, true);
  } else if (setting.value === "command") {
    parsed.shell = value();
  } else if (setting.value === "slots") {
    parsed.slots = numberOf(flag, value(), 1, 1_000_000, true);
  } else {
    parsed.postgres = postgresUrlOf(value((next) => next.includes("://")));
  }
}

/** The URL of --postgres: "" for DATABASE_URL, else a postgres:// URL. */
function postgresUrlOf(url: string): string {
  if (url !== "" && !/^postgres(ql)?:\/\//i.test(url)) {
    throw new UsageError(
      `--postgres needs a postgres:// or postgresql:// URL, got "${
        url.replace(/:[^:@/]*@/, ":***@")
      }"`,
    );
  }
  return url;
}

/** DATABASE_URL, for --postgres without a URL. */
function databaseUrl(): string {
  let url: string | undefined;
  try {
    url = Deno.env.get("DATABASE_URL");
  } catch {
    // No --allow-env.
  }
  if (!url) {
    throw new UsageError(
      "--postgres needs a URL, or DATABASE_URL in the environment",
    );
  }
  return postgresUrlOf(url);
}

/** `text` as a number from `min` to `max` (a whole one if `whole`). */
function numberOf(
  flag: string,
  text: string,
  min: number,
  max: number,
  whole: boolean,
): number {
  const value = Number(text);
  const ok = text.trim() !== "" && Number.isFinite(value) && value >= min &&
    value <= max && (!whole || Number.isInteger(value));
  if (!ok) {
    throw new UsageError(
      whole
        ? `${flag} needs a whole number from ${min} to ${max}, got "${text}"`
        : `${flag} needs a number of seconds >= ${min}, got "${text}"`,
    );
  }
  return value;
}

/** The command to run: the rest of the line, or a shell command. */
function commandOf(rest: string[], shell: string | undefined): string[] {
  if (rest[0] === "-c" || rest[0] === "--command") {
    if (rest.length !== 2) {
      throw new UsageError(`${rest[0]} needs exactly one shell command`);
    }
    shell = rest[1];
    rest = [];
  }
  if (shell === undefined) {
    if (rest.length === 0) throw new UsageError("missing the command to run");
    return rest;
  }
  if (rest.length > 0) {
    throw new UsageError(
      "give either -c COMMAND or a command with arguments, not both",
    );
  }
  return Deno.build.os === "windows"
    ? ["cmd", "/c", shell]
    : ["sh", "-c", shell];
}

const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: Deno.build.os === "darwin" ? 10 : 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: Deno.build.os === "darwin" ? 30 : 10,
  SIGSEGV: 11,
  SIGUSR2: Deno.build.os === "darwin" ? 31 : 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

function holderText(lockfile: string): string {
  try {
    const owner = readLockOwner(lockfile);
    if (owner === null) return "";
    const host = owner.hostname ? ` on ${owner.hostname}` : "";
    return `held by pid ${owner.pid}${host} since ${owner.since.toISOString()}`;
  } catch {
    return "";
  }
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
  let parsed: Parsed;
  try {
    parsed = parse(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`process-lock: ${error.message} (try --help)`);
    return EX_USAGE;
  }
  if (parsed.help || parsed.version) {
    console.log(parsed.help ? USAGE : `process-lock ${config.version}`);
    return 0;
  }
  const lock = await openLock(parsed);
  const started = performance.now();
  const outcome = await waitForLock(lock, parsed);
  if (outcome !== "acquired") return outcome;
  try {
    if (parsed.verbose) {
      say(
        `got ${lock.held()} on ${parsed.lockfile} after ${
          (performance.now() - started).toFixed(0)
        } ms`,
      );
    }
    return await run(parsed.command, lock.lost());
  } finally {
    await lock.release();
  }
}

/** The signals passed on to the command, and that end a wait. */
const SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM"];

function say(line: string): void {
  console.error(`process-lock: ${line}`);
}

/** The lock the command line takes, whatever its backend and mode. */
interface CliLock {
  take(options: AcquireOptions): Promise<boolean>;
  release(): unknown;
  /**
   * Ends a wait that nothing else can end: a file lock without -w waits in
   * the kernel (no polling while a cron job waits).
   */
  dispose: (() => void) | undefined;
  /** Who holds the lock, as far as can be told ("" when unknown). */
  holder(): string;
  /** Aborts when a held lock is lost (PostgreSQL only). */
  lost(): AbortSignal | undefined;
  /** What is held ("slot 2 of 4"), for --verbose. */
  held(): string;
}

/** Makes the lock of the chosen backend (file or PostgreSQL) and kind. */
function openLock(parsed: Parsed): Promise<CliLock> | CliLock {
  return parsed.postgres === undefined
    ? openFileLock(parsed)
    : openPostgresLock(parsed, parsed.postgres);
}

/** What the command holds, for --verbose. */
function heldText(parsed: Parsed, slot: number | undefined): string {
  return parsed.slots !== undefined
    ? `slot ${slot} of ${parsed.slots}`
    : `the ${parsed.shared ? "shared" : "exclusive"} lock`;
}

async function openPostgresLock(
  parsed: Parsed,
  url: string,
): Promise<CliLock> {
  const { lockfile, shared, slots } = parsed;
  // Loaded only here: the file locks need no npm package.
  const pg = await import("./postgres.ts");
  const options = { url };
  if (slots !== undefined) {
    const semaphore = new pg.PostgresSemaphore(lockfile, { ...options, slots });
    return {
      take: (o) => semaphore.acquire(o),
      release: () => semaphore.release(),
      dispose: undefined,
      holder: () => "",
      lost: () => semaphore.signal,
      held: () => heldText(parsed, semaphore.slot),
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
    dispose: undefined,
    holder: () => "",
    lost: () => lock.signal,
    held: () => heldText(parsed, undefined),
  };
}

function openFileLock(parsed: Parsed): CliLock {
  const { lockfile, shared, slots } = parsed;
  const lock = slots !== undefined
    ? new InterProcessSemaphore(lockfile, { slots })
    : shared
    ? new InterProcessReaderWriterLock(lockfile, ANY_FILE_OPTIONS)
    : new InterProcessLock(lockfile, ANY_FILE_OPTIONS);
  return {
    take: (o) =>
      lock instanceof InterProcessReaderWriterLock
        ? lock.acquireReadLock(o)
        : lock.acquire(o),
    release: () =>
      lock instanceof InterProcessReaderWriterLock
        ? lock.releaseReadLock()
        : lock.release(),
    dispose: parsed.timeoutMs === undefined
      ? () => lock[Symbol.dispose]()
      : undefined,
    holder: () => holderText(lockfile),
    lost: () => undefined,
    held: () =>
      heldText(
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
  const stopListening = listen((signal) => {
    received = signal;
    stopWaiting.abort();
    lock.dispose?.();
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
      signal: lock.dispose === undefined ? stopWaiting.signal : undefined,
    });
  } catch (error) {
    if (!stopWaiting.signal.aborted) {
      say((error as Error).message);
      return (error as Error).name === "PostgresConnectionError"
        ? EX_UNAVAILABLE
        : EX_NOINPUT;
    }
    if (parsed.verbose) say(`${received} while waiting for the lock`);
    return 128 + SIGNAL_NUMBERS[received];
  } finally {
    stopStatus();
    stopListening();
  }
  if (acquired) return "acquired";
  if (parsed.verbose) {
    const holder = lock.holder();
    const waited = (performance.now() - started).toFixed(0);
    say(
      `${parsed.lockfile} is busy${holder ? `: ${holder}` : ""}; ${
        parsed.nonblock ? "not waiting (-n)" : `gave up after ${waited} ms`
      }`,
    );
  }
  return parsed.conflictCode;
}

/** Calls `onSignal` for each of SIGNALS until the returned stop is called. */
function listen(onSignal: (signal: Deno.Signal) => unknown): () => void {
  const listeners = SIGNALS.map((signal) => {
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
  const ticker = setInterval(() => {
    const waited = (performance.now() - started) / 1000;
    if (waited < 1) return;
    const holder = lock.holder();
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
 * Runs the command, passing signals on and stopping it if `lost` aborts.
 *
 * @returns Its exit status, or EX_LOST when the lock was lost.
 */
async function run(
  command: string[],
  lost: AbortSignal | undefined,
): Promise<number> {
  // Listen before the command starts, so that no signal finds this process
  // without a listener (which would end it and free the lock).
  let child: Deno.ChildProcess | undefined;
  const early: Deno.Signal[] = [];
  const stopListening = listen((signal) => {
    if (child === undefined) return early.push(signal);
    try {
      child.kill(signal);
    } catch {
      // Already ended.
    }
  });
  try {
    try {
      child = new Deno.Command(command[0], {
        args: command.slice(1),
        stdin: "inherit",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
    } catch (error) {
      say(`cannot run ${command[0]}: ${(error as Error).message}`);
      return error instanceof Deno.errors.NotFound ? 127 : 126;
    }
    for (const signal of early) child.kill(signal);
    const stopWatching = stopOnLoss(child, lost);
    const status = await child.status.finally(stopWatching);
    if (lost?.aborted) return EX_LOST;
    if (status.signal === null) return status.code;
    return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
  } finally {
    stopListening();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
