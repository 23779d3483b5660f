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
 * Options (as in `flock(1)` where it has them):
 *
 * - `-x`, `--exclusive`: take an exclusive lock (the default).
 * - `-s`, `--shared`: take a shared lock.
 * - `-n`, `--nonblock`: fail at once if the lock is busy.
 * - `-w`, `--timeout SECONDS`: give up after this many seconds.
 * - `-E`, `--conflict-exit-code N`: the exit status on conflict or timeout
 *   (default 1).
 * - `-c COMMAND`: run COMMAND through the shell (`sh -c`, or `cmd /c` on
 *   Windows).
 * - `--postgres URL`: lock on PostgreSQL instead of a file, so that the
 *   command is excluded on every host: the lock argument is then a lock name
 *   (needs `--allow-net`, and `--allow-env` for `PG*` variables).
 * - `--verbose`: say how long it waited and who held the lock.
 * - `-h`, `--help`: print the usage.
 *
 * Exit status: the command's own; 128+N if it died of signal N (also when
 * SIGINT or SIGTERM ends the wait for the lock); the conflict code on
 * conflict or timeout; 64 on a usage error; 66 when the lock file cannot be
 * opened; 126 or 127 when the command cannot be run. SIGINT and SIGTERM are
 * passed on to the command, and the lock is held until the command has
 * exited. Without `-w` a file lock is awaited in the kernel (no polling
 * while a job waits); a signal ends that wait at once.
 *
 * One difference from `flock(1)`: the lock belongs to this process, not to
 * the command. `flock(1)` lets the command inherit the locked file, so when
 * `flock(1)` itself is killed with SIGKILL the command keeps the lock until
 * it ends. Deno cannot pass an open file to a child process, so when this
 * process is killed with SIGKILL the lock is freed while the command may run
 * on, unlocked. Stop it with SIGTERM or SIGINT (passed on, lock held until
 * the command exits), or use `flock(1)` where that case matters. While it waits longer than a second with stderr on a
 * terminal, a one-line status shows how long it has waited and who holds the
 * lock.
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
import { readLockOwner } from "./owner.ts";
import { ANY_FILE } from "./_options.ts";
import config from "./deno.json" with { type: "json" };

/** The exit status of a usage error (EX_USAGE). */
const EX_USAGE = 64;
/** The exit status when the lock file cannot be opened (EX_NOINPUT). */
const EX_NOINPUT = 66;

const USAGE = `Usage:
  process-lock [options] <lockfile|directory> <command> [args...]
  process-lock [options] <lockfile|directory> -c <shell command>
  process-lock --postgres URL [options] <name> <command> [args...]

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
      --postgres URL            lock on PostgreSQL (any host): <lockfile> is
                                then a lock name
      --verbose                 say how long it waited and who held the lock
  -V, --version                 print the version
  -h, --help                    print this help
  --                            end of the options

Exit status: the command's, 128+N if it died of signal N (or signal N ended
the wait), the conflict code on conflict or timeout, 64 on a usage error,
66 if the lock file cannot be opened, 126/127 if the command cannot be run.

Unlike flock(1), the lock belongs to this process, not to the command: if
this process is killed with SIGKILL, the lock is freed while the command may
run on. SIGINT and SIGTERM are passed on, and the lock is held until the
command exits. Under npx, signals sent to npx do not reach Deno: for
timeout(1), systemd or cron, run the installed command or deno run.`;

interface Parsed {
  postgres: string | undefined;
  shared: boolean;
  nonblock: boolean;
  timeoutMs: number | undefined;
  conflictCode: number;
  verbose: boolean;
  help: boolean;
  version: boolean;
  lockfile: string;
  command: string[];
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
  | { value: "timeout" | "conflict" | "command" | "postgres" };

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
};

/**
 * Parses the command line as flock(1) does: options first (grouped short
 * options, values attached or separate, `--name=value`), up to the lock
 * file or `--`; after the lock file, the command or `-c COMMAND`.
 */
function parse(args: string[]): Parsed {
  const parsed: Parsed = {
    postgres: undefined,
    shared: false,
    nonblock: false,
    timeoutMs: undefined,
    conflictCode: 1,
    verbose: false,
    help: false,
    version: false,
    lockfile: "",
    command: [],
  };
  const state = { shell: undefined as string | undefined };
  let i = 0;
  /** The value of `flag`: attached to it, or the next argument. */
  const valueOf = (flag: string, attached: string | undefined): string => {
    if (attached !== undefined) return attached;
    const next = args[++i];
    if (next === undefined) throw new UsageError(`${flag} needs a value`);
    return next;
  };
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const flag = eq === -1 ? arg : arg.slice(0, eq);
      const setting = LONG[flag];
      if (setting === undefined) throw new UsageError(`unknown option ${flag}`);
      const attached = eq === -1 ? undefined : arg.slice(eq + 1);
      if (typeof setting === "string" && attached !== undefined) {
        throw new UsageError(`${flag} takes no value`);
      }
      apply(parsed, state, setting, flag, () => valueOf(flag, attached));
      continue;
    }
    // A group of short options; one that takes a value takes the rest.
    for (let k = 1; k < arg.length; k++) {
      const flag = `-${arg[k]}`;
      const setting = SHORT[arg[k]];
      if (setting === undefined) throw new UsageError(`unknown option ${flag}`);
      const rest = arg.slice(k + 1);
      if (typeof setting !== "string") {
        apply(
          parsed,
          state,
          setting,
          flag,
          () => valueOf(flag, rest || undefined),
        );
        break;
      }
      apply(parsed, state, setting, flag, () => "");
    }
  }
  if (parsed.help || parsed.version) return parsed;
  parsed.lockfile = args[i++] ?? "";
  if (parsed.lockfile === "") {
    throw new UsageError(
      parsed.postgres === undefined
        ? "missing the lock file"
        : "missing the lock name",
    );
  }
  parsed.command = commandOf(args.slice(i), state.shell);
  return parsed;
}

/** Applies one option to `parsed`. */
function apply(
  parsed: Parsed,
  state: { shell: string | undefined },
  setting: Setting,
  flag: string,
  value: () => string,
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
    state.shell = value();
  } else {
    parsed.postgres = value();
  }
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
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.version) {
    console.log(`process-lock ${config.version}`);
    return 0;
  }
  const { lockfile, verbose } = parsed;
  const say = (line: string) => console.error(`process-lock: ${line}`);

  let take: (options: AcquireOptions) => Promise<boolean>;
  let release: () => unknown;
  // Without -w, a file lock waits in the kernel (no polling while a cron
  // job waits): a signal then ends the wait by disposing the lock object.
  let dispose: (() => void) | undefined;
  if (parsed.postgres !== undefined) {
    // Loaded only here: the file locks need no npm package.
    const pg = await import("./postgres.ts");
    const options = { url: parsed.postgres };
    if (parsed.shared) {
      const rw = new pg.PostgresReaderWriterLock(lockfile, options);
      take = (o) => rw.acquireReadLock(o);
      release = () => rw.releaseReadLock();
    } else {
      const lock = new pg.PostgresLock(lockfile, options);
      take = (o) => lock.acquire(o);
      release = () => lock.release();
    }
  } else if (parsed.shared) {
    const rw = new InterProcessReaderWriterLock(lockfile, ANY_FILE_OPTIONS);
    take = (o) => rw.acquireReadLock(o);
    release = () => rw.releaseReadLock();
    dispose = () => rw[Symbol.dispose]();
  } else {
    const lock = new InterProcessLock(lockfile, ANY_FILE_OPTIONS);
    take = (o) => lock.acquire(o);
    release = () => lock.release();
    dispose = () => lock[Symbol.dispose]();
  }
  if (parsed.timeoutMs !== undefined) dispose = undefined;
  const holderOf = (path: string) =>
    parsed.postgres === undefined ? holderText(path) : "";
  const stopWaiting = new AbortController();
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  let received: Deno.Signal = "SIGINT";
  const listeners = signals.map((signal) => {
    const listener = () => {
      received = signal;
      stopWaiting.abort();
      dispose?.();
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });

  const started = performance.now();
  const status = Deno.stderr.isTerminal();
  let ticker: ReturnType<typeof setInterval> | undefined;
  if (status && !parsed.nonblock) {
    ticker = setInterval(() => {
      const waited = (performance.now() - started) / 1000;
      if (waited < 1) return;
      const holder = holderOf(lockfile);
      const text = `process-lock: waiting for ${lockfile} for ${
        waited.toFixed(0)
      } s${holder ? `, ${holder}` : ""}`;
      Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${text}`));
    }, 250);
  }
  let acquired: boolean;
  try {
    const options = {
      blocking: !parsed.nonblock,
      timeout: parsed.timeoutMs,
      signal: dispose === undefined ? stopWaiting.signal : undefined,
    };
    acquired = await take(options);
  } catch (error) {
    if (stopWaiting.signal.aborted) {
      if (verbose) say(`${received} while waiting for the lock`);
      return 128 + SIGNAL_NUMBERS[received];
    }
    say((error as Error).message);
    return EX_NOINPUT;
  } finally {
    if (ticker !== undefined) {
      clearInterval(ticker);
      if (performance.now() - started >= 1000) {
        Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
      }
    }
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  }
  const waited = performance.now() - started;
  if (!acquired) {
    if (verbose) {
      const holder = holderOf(lockfile);
      say(
        `${lockfile} is busy${holder ? `: ${holder}` : ""}; ${
          parsed.nonblock
            ? "not waiting (-n)"
            : `gave up after ${waited.toFixed(0)} ms`
        }`,
      );
    }
    return parsed.conflictCode;
  }
  try {
    if (verbose) {
      say(
        `got the ${
          parsed.shared ? "shared" : "exclusive"
        } lock on ${lockfile} after ${waited.toFixed(0)} ms`,
      );
    }
    return await run(parsed.command, signals);
  } finally {
    await release();
  }
}

/** Runs the command, passing signals on, and returns its exit status. */
async function run(command: string[], signals: Deno.Signal[]): Promise<number> {
  // Listen before the command starts, so that no signal finds this process
  // without a listener (which would end it and free the lock).
  let child: Deno.ChildProcess | undefined;
  const early: Deno.Signal[] = [];
  const forward = (signal: Deno.Signal) => () => {
    if (child === undefined) {
      early.push(signal);
      return;
    }
    try {
      child.kill(signal);
    } catch {
      // Already ended.
    }
  };
  const listeners = signals.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, listener] of listeners) {
    Deno.addSignalListener(signal, listener);
  }
  try {
    try {
      child = new Deno.Command(command[0], {
        args: command.slice(1),
        stdin: "inherit",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
    } catch (error) {
      const notFound = error instanceof Deno.errors.NotFound;
      console.error(
        `process-lock: cannot run ${command[0]}: ${(error as Error).message}`,
      );
      return notFound ? 127 : 126;
    }
    for (const signal of early) child.kill(signal);
    const status = await child.status;
    if (status.signal !== null) {
      return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
    }
    return status.code;
  } finally {
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
