// A TCP proxy for the tests: forwards to a server (after `delayMs` each
// way, as over a network) until told to stall (forward nothing, close
// nothing: a middlebox that keeps TCP alive) or to cut (close every
// connection).

/** A proxy in front of `upstream` (host:port) on a free local port. */
export class Proxy implements AsyncDisposable {
  readonly port: number;
  /** Bytes forwarded to the server and to the clients. */
  readonly bytes = { up: 0, down: 0 };
  /** How many client connections the clients closed. */
  closedByClients = 0;
  #listener: Deno.Listener;
  #conns: Deno.Conn[] = [];
  #stalled = false;
  #pumps: Promise<void>[] = [];
  #accepting: Promise<void>;

  readonly #delayMs: number;

  constructor(upstream: { hostname: string; port: number }, delayMs = 0) {
    this.#delayMs = delayMs;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept(upstream);
  }

  /** A URL like `url` whose host and port are the proxy's. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.href;
  }

  /** Forwards nothing from now on; every connection stays open. */
  stall(): void {
    this.#stalled = true;
  }

  /** Closes every connection. */
  cut(): void {
    for (const conn of this.#conns.splice(0)) {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    this.cut();
    await this.#accepting;
    await Promise.all(this.#pumps);
  }

  async #accept(upstream: { hostname: string; port: number }): Promise<void> {
    try {
      for await (const client of this.#listener) {
        const server = await Deno.connect(upstream);
        this.#conns.push(client, server);
        this.#pumps.push(
          this.#pump(client, server, "up"),
          this.#pump(server, client, "down"),
        );
      }
    } catch {
      // The listener closed.
    }
  }

  async #pump(
    from: Deno.Conn,
    to: Deno.Conn,
    direction: "up" | "down",
  ): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await from.read(buffer);
        if (n === null) {
          if (direction === "up") this.closedByClients++;
          break;
        }
        // A stalled proxy swallows what arrives and sends nothing.
        if (this.#stalled) continue;
        if (this.#delayMs > 0) {
          await new Promise((r) => setTimeout(r, this.#delayMs));
        }
        for (let sent = 0; sent < n;) {
          sent += await to.write(buffer.subarray(sent, n));
        }
        this.bytes[direction] += n;
      }
    } catch {
      // Cut.
    }
    if (!this.#stalled) {
      for (const conn of [from, to]) {
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      }
    }
  }
}

/** A listener that accepts TCP and never answers: not a PostgreSQL server. */
export class SilentPeer implements AsyncDisposable {
  readonly port: number;
  #listener: Deno.Listener;
  #conns: Deno.Conn[] = [];
  #accepting: Promise<void>;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) this.#conns.push(conn);
    } catch {
      // Closed.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) conn.close();
    await this.#accepting;
  }
}
