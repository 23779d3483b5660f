// A PostgreSQL server for the tests, the demo and the bench: DATABASE_URL
// when it is set, else a throwaway cluster started from the machine's
// PostgreSQL binaries (initdb, pg_ctl) in a temporary directory, on a free
// port, with fsync off, run as an unprivileged user when this process is
// root. Stopped and removed when this process ends.

export interface PgServer {
  /** The connection URL. */
  url: string;
  /** Why there is no server (then `url` is ""). */
  reason?: string;
  /** Restarts the server (a throwaway cluster only). */
  restart?: () => void;
}

let started: Promise<PgServer> | undefined;

/** Finds a PostgreSQL binary on PATH or under /usr/lib/postgresql. */
function findBinary(name: string): string | undefined {
  const dirs = (Deno.env.get("PATH") ?? "").split(":");
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((entry) => entry.name).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // No Debian layout.
  }
  for (const dir of dirs) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function runSync(args: string[], user: string | undefined): Deno.CommandOutput {
  const [command, ...rest] = user === undefined
    ? args
    : ["runuser", "-u", user, "--", ...args];
  return new Deno.Command(command, {
    args: rest,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
}

/** Whether the tests must fail, not skip, without a server (as in CI). */
export function postgresRequired(): boolean {
  return envGranted() &&
    Deno.env.get("PROCESS_LOCK_REQUIRE_POSTGRES") === "1";
}

function envGranted(): boolean {
  return Deno.permissions.querySync({ name: "env" }).state === "granted";
}

function start(): PgServer {
  if (!envGranted()) {
    return { url: "", reason: "no --allow-env (DATABASE_URL, PATH)" };
  }
  const fromEnv = Deno.env.get("DATABASE_URL");
  if (fromEnv) return { url: fromEnv };
  const initdb = findBinary("initdb");
  const pgCtl = findBinary("pg_ctl");
  if (initdb === undefined || pgCtl === undefined) {
    return {
      url: "",
      reason:
        "no DATABASE_URL and no PostgreSQL binaries (initdb, pg_ctl): install Debian's postgresql package",
    };
  }
  const root = Deno.uid() === 0;
  const user = root ? "postgres" : undefined;
  if (root) {
    const id = new Deno.Command("id", { args: ["-u", "postgres"] })
      .outputSync();
    if (!id.success) {
      return { url: "", reason: "running as root without a postgres user" };
    }
  }
  const dir = Deno.makeTempDirSync({ prefix: "process-lock-pg-" });
  if (root) {
    const chown = new Deno.Command("chown", {
      args: ["postgres:", dir],
    }).outputSync();
    if (!chown.success) {
      Deno.removeSync(dir, { recursive: true });
      return { url: "", reason: "cannot chown the data dir" };
    }
  }
  const data = `${dir}/data`;
  const init = runSync(
    [initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
    user,
  );
  if (!init.success) {
    Deno.removeSync(dir, { recursive: true });
    return {
      url: "",
      reason: `initdb failed: ${new TextDecoder().decode(init.stderr)}`,
    };
  }
  const port = freePort();
  // Another address to listen on (a test's private network), trusted for
  // the hosts of its subnet.
  const extra = Deno.env.get("PROCESS_LOCK_PG_LISTEN");
  if (extra) {
    Deno.writeTextFileSync(
      `${data}/pg_hba.conf`,
      "host all all samenet trust\n",
      { append: true },
    );
  }
  const options = [
    `-p ${port}`,
    `-c listen_addresses=127.0.0.1${extra ? `,${extra}` : ""}`,
    `-c unix_socket_directories=${dir}`,
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
  ].join(" ");
  const run = runSync(
    [pgCtl, "-D", data, "-o", options, "-l", `${dir}/log`, "-w", "start"],
    user,
  );
  if (!run.success) {
    Deno.removeSync(dir, { recursive: true });
    return {
      url: "",
      reason: `pg_ctl start failed: ${new TextDecoder().decode(run.stderr)}`,
    };
  }
  globalThis.addEventListener("unload", () => {
    runSync([pgCtl, "-D", data, "-m", "immediate", "-w", "stop"], user);
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Best effort.
    }
  });
  const restart = () => {
    const again = runSync(
      [pgCtl, "-D", data, "-o", options, "-l", `${dir}/log`, "-m", "fast"]
        .concat(["-w", "restart"]),
      user,
    );
    if (!again.success) throw new Error("pg_ctl restart failed");
  };
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, restart };
}

/**
 * The server to use, started once per process.
 *
 * @returns The URL, or an empty URL and the reason there is none.
 */
export function pgServer(): Promise<PgServer> {
  started ??= Promise.resolve().then(start);
  return started;
}
