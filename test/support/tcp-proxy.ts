import { createServer, type Server, Socket } from 'node:net';

/** One client connection and its connection to the target, with what each side sent during a hold. */
interface Link {
  client: Socket;
  upstream?: Socket;
  /** Bytes read during a hold, per direction, delivered on release. */
  toUpstream: Buffer[];
  toClient: Buffer[];
  /** A side closed or failed during a hold: its peer never hears the rest, the link is reset on release. */
  broken: boolean;
}

/**
 * A TCP proxy on a free loopback port in front of `targetPort`, that a test can cut off from
 * the target the way a network split does:
 *
 * - `hold()` stops forwarding in both directions and keeps every socket open: a client sees no
 *   replies, the target hears nothing, and new connections are accepted but not passed on. What
 *   either side sends meanwhile is kept, as TCP keeps retransmitting it, and delivered by
 *   `release()` — unless that side closed or failed during the hold (a sender that died stops
 *   retransmitting: its data never arrives), in which case `release()` resets the link instead.
 * - `reset()` destroys every connection with a RST (both sides see ECONNRESET).
 * - `latency(ms)` delays every chunk by `ms` in each direction, in order: a target further away.
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private held = false;
  private delayMs = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly targetPort: number,
    private readonly targetHost: string,
  ) {}

  /** Listens on a free loopback port, forwarding to `targetHost:targetPort`. */
  static start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true });
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const proxy = new TcpProxy(server, (server.address() as { port: number }).port, targetPort, targetHost);
        server.on('connection', (client) => proxy.accept(client));
        resolve(proxy);
      });
    });
  }

  /** `redis://` URL of the proxy (database `db`), for a Redis behind it. */
  redisUrl(db = 0): string {
    return `redis://127.0.0.1:${this.port}/${db}`;
  }

  /** Connections open now. */
  get connections(): number {
    return this.links.size;
  }

  /** The split: nothing goes through, in either direction, until `release()`. */
  hold(): void {
    this.held = true;
  }

  /** Heals the split: delivers what live senders sent meanwhile, resets links a side left. */
  release(): void {
    this.held = false;
    for (const link of this.links) {
      if (link.broken) {
        this.resetLink(link);
        continue;
      }
      if (!link.upstream) this.connectUpstream(link);
      for (const chunk of link.toUpstream.splice(0)) link.upstream!.write(chunk);
      for (const chunk of link.toClient.splice(0)) link.client.write(chunk);
    }
  }

  /** Destroys every connection with a RST. */
  reset(): void {
    for (const link of this.links) this.resetLink(link);
  }

  /** From now on every chunk goes through `ms` later, each way (0: at once). Set it while the link is quiet. */
  latency(ms: number): void {
    this.delayMs = ms;
  }

  /** Resets every connection and stops listening. */
  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const link: Link = { client, toUpstream: [], toClient: [], broken: false };
    this.links.add(link);
    client.on('data', (chunk: Buffer) =>
      this.later(() => {
        if (this.held || !link.upstream) link.toUpstream.push(chunk);
        else if (link.upstream.writable) link.upstream.write(chunk);
      }),
    );
    this.onEnd(link, client);
    // During a split the connection is not passed on: a SYN that does not arrive.
    if (!this.held) this.connectUpstream(link);
  }

  private connectUpstream(link: Link): void {
    const upstream = new Socket();
    upstream.setNoDelay(true);
    link.upstream = upstream;
    upstream.on('data', (chunk: Buffer) =>
      this.later(() => {
        if (this.held) link.toClient.push(chunk);
        else if (link.client.writable) link.client.write(chunk);
      }),
    );
    this.onEnd(link, upstream);
    upstream.connect(this.targetPort, this.targetHost, () => {
      if (!this.held) for (const chunk of link.toUpstream.splice(0)) upstream.write(chunk);
    });
  }

  /**
   * A side that ends or fails: its peer is told (a FIN passed on as a FIN, a failure as a RST) —
   * or, during a hold, nothing is passed on and the link is reset on release.
   */
  private onEnd(link: Link, socket: Socket): void {
    const gone = (failed: boolean) => {
      if (!this.links.has(link)) return;
      if (this.held) {
        link.broken = true;
        return;
      }
      if (failed) return this.resetLink(link);
      const peer = socket === link.client ? link.upstream : link.client;
      if (peer && !peer.destroyed) peer.end();
      if (link.client.destroyed && (!link.upstream || link.upstream.destroyed)) this.links.delete(link);
    };
    socket.on('end', () => gone(false));
    socket.on('close', (hadError) => gone(hadError));
    socket.on('error', () => gone(true));
  }

  /** Runs `forward` after the latency (timers of one delay run in the order they were set). */
  private later(forward: () => void): void {
    if (this.delayMs === 0) forward();
    else setTimeout(forward, this.delayMs);
  }

  private resetLink(link: Link): void {
    this.links.delete(link);
    for (const socket of [link.client, link.upstream]) if (socket && !socket.destroyed) socket.resetAndDestroy();
  }
}
