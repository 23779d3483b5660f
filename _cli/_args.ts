// Copyright 2026 the @locks/process-lock authors. MIT license.
// The command line's arguments, parsed as flock(1) parses them (grouped
// short options, attached values, --name=value) into a Parsed.

export interface Parsed {
  postgres: string | undefined;
  slots: number | undefined;
  shared: boolean;
  nonblock: boolean;
  timeoutMs: number | undefined;
  conflictCode: number;
  verbose: boolean;
  status: boolean;
  json: boolean;
  help: boolean;
  version: boolean;
  lockfile: string;
  command: string[];
  /** A shell command given with -c, while parsing. */
  shell: string | undefined;
}

/** A mistake in the arguments: exit 64 with its message. */
export class UsageError extends Error {}

/** What an option sets; `value` options take an argument. */
type Setting =
  | "exclusive"
  | "shared"
  | "nonblock"
  | "accepted"
  | "verbose"
  | "status"
  | "json"
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
  "--status": "status",
  "--json": "json",
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
export function parse(args: string[]): Parsed {
  const parsed: Parsed = {
    postgres: undefined,
    slots: undefined,
    shared: false,
    nonblock: false,
    timeoutMs: undefined,
    conflictCode: 1,
    verbose: false,
    status: false,
    json: false,
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
  if (parsed.status) {
    if (i < args.length) throw new UsageError("--status takes no command");
    if (parsed.slots !== undefined) {
      throw new UsageError("--status reads one lock: --slots does not apply");
    }
    return parsed;
  }
  if (parsed.json) throw new UsageError("--json goes with --status");
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
    parsed.postgres = value((next) => next.includes("://"));
  }
}

/** DATABASE_URL, for --postgres without a URL. */
function databaseUrl(): string {
  const url = envOf("DATABASE_URL");
  if (!url) {
    throw new UsageError(
      "--postgres needs a URL, or DATABASE_URL in the environment",
    );
  }
  return url;
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
    : [envOf("SHELL") || "/bin/sh", "-c", shell];
}

/** An environment variable; "" when unset or not readable. */
function envOf(name: string): string {
  try {
    return Deno.env.get(name) ?? "";
  } catch {
    return ""; // No --allow-env.
  }
}
