// Helpers for the tests: temporary paths and child processes that run the
// fixture scripts with a real Deno.

export const FIXTURES = new URL("./fixtures/", import.meta.url);

/** The permissions of `deno task test`, for a child that runs as it does. */
export const TEST_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-net",
  "--allow-env",
  "--allow-sys=hostname,uid",
];

/** A fresh temporary directory, removed by the returned dispose. */
export async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "process-lock-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** A running child process with line-by-line access to its stdout. */
export class Child implements AsyncDisposable {
  readonly process: Deno.ChildProcess;
  #lines: AsyncIterator<string>;
  #buffer: string[] = [];
  readonly stderr: Promise<string>;
  stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;

  constructor(
    args: string[],
    options: {
      permissions?: string[];
      env?: Record<string, string>;
      /** A command that runs Deno (`["unshare", "--net", "--"]`). */
      via?: string[];
    } = {},
  ) {
    const permissions = options.permissions ??
      ["--allow-read", "--allow-write", "--allow-sys=hostname"];
    const [command, ...via] = [...options.via ?? [], Deno.execPath()];
    this.process = new Deno.Command(command, {
      args: [...via, "run", "--quiet", ...permissions, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
    }).spawn();
    this.stdin = this.process.stdin.getWriter();
    this.#lines = lines(this.process.stdout)[Symbol.asyncIterator]();
    this.stderr = new Response(this.process.stderr).text();
  }

  /** Waits for the next stdout line that starts with `prefix`. */
  async waitFor(prefix: string, timeoutMs = 20_000): Promise<string> {
    const found = this.#buffer.findIndex((line) => line.startsWith(prefix));
    if (found !== -1) return this.#buffer.splice(found, 1)[0];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Child did not print "${prefix}" in ${timeoutMs} ms; saw ${
                JSON.stringify(this.#buffer)
              }`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      while (true) {
        const next = await Promise.race([this.#lines.next(), timeout]);
        if (next.done) {
          throw new Error(
            `Child ended before printing "${prefix}"; saw ${
              JSON.stringify(this.#buffer)
            }; stderr: ${await this.stderr}`,
          );
        }
        if (next.value.startsWith(prefix)) return next.value;
        this.#buffer.push(next.value);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the child's standard input (a fixture's cue to release). */
  async closeStdin(): Promise<void> {
    if (this.stdin) {
      const writer = this.stdin;
      this.stdin = undefined;
      await writer.close().catch(() => {});
    }
  }

  /** Waits for the end, and returns the status and the rest of stdout. */
  async end(): Promise<
    { status: Deno.CommandStatus; rest: string[]; stderr: string }
  > {
    await this.closeStdin();
    const rest = [...this.#buffer];
    this.#buffer = [];
    while (true) {
      const next = await this.#lines.next();
      if (next.done) break;
      rest.push(next.value);
    }
    const status = await this.process.status;
    return { status, rest, stderr: await this.stderr };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // Already ended.
    }
    await this.end().catch(() => {});
  }
}

/** The lines of a text stream, without their line ends. */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let index;
    while ((index = pending.indexOf("\n")) !== -1) {
      yield pending.slice(0, index);
      pending = pending.slice(index + 1);
    }
  }
  if (pending) yield pending;
}

/** Spawns a fixture script. */
export function fixture(
  name: string,
  args: string[],
  options?: ConstructorParameters<typeof Child>[1],
): Child {
  return new Child([new URL(name, FIXTURES).pathname, ...args], options);
}

/** Runs a command to its end and returns its exit code and output. */
export async function run(
  command: string,
  args: string[],
  env?: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(command, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** The epoch time in ms with sub-ms precision, as the fixtures print it. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The lock on `path` taken through a raw file, as another tool would. */
export function rawHolder(path: string): Deno.FsFile {
  const file = Deno.openSync(path, { read: true, write: true, create: true });
  if (!file.tryLockSync(true)) throw new Error(`"${path}" is held`);
  return file;
}

/** Starts `flock -x path` (or `-s`) holding until its stdin closes. */
export async function flockHolder(path: string, mode: "-x" | "-s" = "-x") {
  const child = new Deno.Command("flock", {
    args: [mode, path, "-c", "echo held; read _ || true"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  reader.releaseLock();
  return {
    async end() {
      await child.stdin.close();
      await child.stdout.cancel();
      return (await child.status).code;
    },
  };
}
