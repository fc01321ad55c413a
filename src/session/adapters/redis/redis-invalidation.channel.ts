import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { Invalidation, InvalidationChannel } from '../shared-session-tier.js';
import { isCluster } from './redis-connection.js';

/** Longest start-up waits for the subscription (Redis away: it completes once Redis is back). */
const SUBSCRIBE_WAIT_MS = 3000;


/**
 * Redis pub/sub between instances, with a heartbeat: every `heartbeatMs` the instance publishes
 * a beat and listens for its own. The channel is healthy only while beats come back within
 * `staleMs` — so a frozen Redis (socket open, nothing answering) counts as down, not only a
 * closed socket. Instances trust their in-process cache only while it is healthy.
 *
 * On a Redis Cluster it uses sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7): the channel's own
 * master delivers a message to its subscribers before it answers the publisher, as a single
 * Redis does, instead of relaying it over the cluster bus after answering — so an instance that
 * revoked a session can rely on the others having been told by the time it answers.
 */
export class RedisInvalidationChannel implements InvalidationChannel {
  private readonly logger = new Logger('SessionInvalidation');
  private readonly instanceId = randomUUID();
  private readonly handlers: Array<(invalidation: Invalidation) => void> = [];
  private readonly healthHandlers: Array<(healthy: boolean) => void> = [];
  private lastBeat = 0;
  private timer?: NodeJS.Timeout;
  private wasHealthy = false;
  private closed = false;
  private readonly sharded: boolean;

  constructor(
    private readonly publisher: Redis | Cluster,
    private readonly subscriber: Redis | Cluster,
    private readonly channel: string,
    private readonly heartbeatMs = 200,
    private readonly staleMs = 1000,
  ) {
    this.sharded = isCluster(publisher);
  }

  /**
   * Subscribes and starts the heartbeat. Waits at most `SUBSCRIBE_WAIT_MS` for the subscription:
   * with Redis away it completes once Redis is back (ioredis queues it, and re-subscribes after
   * every reconnect), and the channel stays unhealthy meanwhile.
   */
  async start(): Promise<void> {
    this.subscriber.on(this.sharded ? 'smessage' : 'message', (channel: string, message: string) => this.receive(channel, message));
    // A dropped subscription may have missed messages, however fast it comes back: unhealthy at once.
    this.subscriber.on('close', () => {
      if (this.closed) return;
      this.lastBeat = 0;
      void this.healthy;
    });
    const subscribe = () =>
      (this.sharded ? this.subscriber.ssubscribe(this.channel) : this.subscriber.subscribe(this.channel)).then(
        () => undefined,
        (error: Error) => this.logger.warn(`Could not subscribe to ${this.channel} yet: ${error.message}`),
      );
    // Only once the connection is ready: a SUBSCRIBE queued while it connects can beat ioredis's
    // ready check (INFO) to the server, which then refuses the INFO ("Connection in subscriber
    // mode") and ioredis drops the connection. After a reconnect ioredis re-subscribes by itself.
    const subscribed =
      this.subscriber.status === 'ready' ? subscribe() : new Promise<void>((resolve) => this.subscriber.once('ready', () => resolve(subscribe())));
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([subscribed, new Promise<void>((resolve) => (waited = setTimeout(resolve, SUBSCRIBE_WAIT_MS)))]);
    clearTimeout(waited);
    this.beat();
  }

  /** Stops the heartbeat and closes the subscriber connection. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.subscriber.disconnect();
  }

  /** True while this instance hears its own heartbeat: invalidations from others reach it. */
  get healthy(): boolean {
    const healthy = Date.now() - this.lastBeat < this.staleMs;
    if (healthy !== this.wasHealthy) {
      this.wasHealthy = healthy;
      this.logger.log(healthy ? 'Invalidation channel healthy: in-process cache on' : 'Invalidation channel unhealthy: in-process cache off');
      // Messages may have been missed while unhealthy: whoever keeps copies must drop them.
      for (const handler of this.healthHandlers) handler(healthy);
    }
    return healthy;
  }

  /** Called on every change of health (checked at least once per heartbeat). */
  onHealthChange(handler: (healthy: boolean) => void): void {
    this.healthHandlers.push(handler);
  }

  onInvalidation(handler: (invalidation: Invalidation) => void): void {
    this.handlers.push(handler);
  }

  /** Tells every instance (this one included). Rejects when Redis does not take it. */
  async publish(invalidation: Invalidation): Promise<void> {
    await this.send(JSON.stringify({ ...invalidation, from: this.instanceId }));
  }

  private send(message: string): Promise<unknown> {
    return this.sharded ? this.publisher.spublish(this.channel, message) : this.publisher.publish(this.channel, message);
  }

  private beat(): void {
    void this.healthy; // notices a stale channel even when no request asks
    this.send(JSON.stringify({ beat: this.instanceId })).catch(() => undefined);
    this.timer = setTimeout(() => this.beat(), this.heartbeatMs).unref();
  }

  private receive(channel: string, message: string): void {
    if (channel !== this.channel) return;
    let parsed: Invalidation & { beat?: string };
    try {
      parsed = JSON.parse(message) as Invalidation & { beat?: string };
    } catch {
      return;
    }
    if (parsed.beat !== undefined) {
      if (parsed.beat === this.instanceId) this.lastBeat = Date.now();
      return;
    }
    const { hashes, userId, unmarked } = parsed;
    for (const handler of this.handlers) handler({ hashes, userId, unmarked });
  }
}
