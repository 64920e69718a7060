// A TCP proxy between agents and the coordinator that a fault scenario controls: it can
// drop every connection through it (both ends reset), and stall them (no byte moves either
// way, new connections wait) for a while.
import net from "node:net";

export class FaultProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private stalledUntil = 0;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return `127.0.0.1:${this.port}`;
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
    if (Date.now() < this.stalledUntil) this.pause(pair, this.stalledUntil - Date.now());
  }

  private pause([a, b]: [net.Socket, net.Socket], ms: number): void {
    a.unpipe(b);
    b.unpipe(a);
    a.pause();
    b.pause();
    setTimeout(() => {
      if (a.destroyed || b.destroyed) return;
      a.pipe(b);
      b.pipe(a);
    }, ms).unref();
  }

  /** Resets every connection through the proxy (agents see their streams drop). */
  drop(): number {
    const n = this.pairs.size;
    for (const [a, b] of [...this.pairs]) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.pairs.clear();
    return n;
  }

  /** No byte moves through any connection, old or new, for `ms`. */
  stall(ms: number): void {
    this.stalledUntil = Date.now() + ms;
    for (const p of this.pairs) this.pause(p, ms);
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
