import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { OfflineSession, SessionEnd, SocketEntry, SocketLocation } from '../../ports/socket-presence.js';
import { SocketPresence } from '../../ports/socket-presence.js';
import { PRESENCE_ADD, PRESENCE_REAP, PRESENCE_REMOVE } from './presence.scripts.js';
import { ConnectionUse, isCluster, type SessionRedisConnection } from './redis-connection.js';

/** Sockets per script call: a heartbeat of many sockets never holds Redis for long. */
const BATCH = 200;
/** Longest start-up waits for the subscription to the ends channel. */
const SUBSCRIBE_WAIT_MS = 3000;
/** Sessions one reap forgets at most (the next heartbeat takes the rest). */
const REAP_LIMIT = 1000;

const SCRIPTS = { presenceAdd: PRESENCE_ADD, presenceRemove: PRESENCE_REMOVE, presenceReap: PRESENCE_REAP };
type Scripts = { [name in keyof typeof SCRIPTS]: (...args: unknown[]) => Promise<string[]> };

/**
 * Presence in Redis (see `presence.scripts.ts` for the keys), and the ends of sessions on a pub/sub
 * channel of its own (`<prefix>ended`) on the module's connection. Calls fail fast while Redis is
 * away (the connection's settings); `SessionSockets` then answers from this instance's sockets.
 */
export class RedisSocketPresence extends SocketPresence {
  readonly backend = 'redis';
  private readonly logger = new Logger('SessionSockets');
  private readonly redis: Redis | Cluster;
  private readonly use: ConnectionUse;
  private readonly keyPrefix: string;
  private readonly channel: string;
  private readonly handlers: Array<(ends: SessionEnd[]) => void> = [];
  private subscriber?: Redis | Cluster;

  /**
   * @param prefix the module's key prefix
   * @param ttlMs how long an entry lives unless renewed
   */
  constructor(
    private readonly connection: SessionRedisConnection,
    prefix: string,
    readonly ttlMs = 30_000,
  ) {
    super();
    this.use = new ConnectionUse(connection);
    this.redis = connection.client;
    this.keyPrefix = `${prefix}{presence}:`;
    this.channel = `${prefix}ended`;
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      // One key declared (its slot is every key's: the hash tag), the others built from ARGV.
      if (!(name in this.redis)) this.redis.defineCommand(name, { numberOfKeys: 1, lua });
    }
  }

  private get scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }

  private get anchor(): string {
    return `${this.keyPrefix}sessions`;
  }

  async start(): Promise<void> {
    await this.use.start();
    const subscriber = (this.subscriber = this.connection.subscriber());
    const sharded = isCluster(subscriber);
    subscriber.on(sharded ? 'smessage' : 'message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    const subscribe = () =>
      (sharded ? subscriber.ssubscribe(this.channel) : subscriber.subscribe(this.channel)).catch((error: Error) =>
        this.logger.warn(`Could not subscribe to ${this.channel} yet: ${error.message}`),
      );
    // As RedisInvalidationChannel: subscribe once ready (ioredis re-subscribes after reconnects),
    // waiting at most SUBSCRIBE_WAIT_MS: with Redis away the app starts, and hears ends once it is back.
    const subscribed =
      subscriber.status === 'ready' ? subscribe() : new Promise<unknown>((resolve) => subscriber.once('ready', () => resolve(subscribe())));
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([subscribed, new Promise<void>((resolve) => (waited = setTimeout(resolve, SUBSCRIBE_WAIT_MS)))]);
    clearTimeout(waited);
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    await this.use.close();
  }

  async add(instanceId: string, entries: readonly SocketEntry[]): Promise<string[]> {
    const now = Date.now();
    const came: string[] = [];
    for (let i = 0; i < entries.length; i += BATCH) {
      const args = entries.slice(i, i + BATCH).flatMap((e) => [e.socketId, e.sessionId, e.userId]);
      came.push(...(await this.scripts.presenceAdd(this.anchor, this.keyPrefix, now, now + this.ttlMs, this.ttlMs, instanceId, ...args)));
    }
    return [...new Set(came)];
  }

  async remove(instanceId: string, entries: readonly SocketEntry[]): Promise<OfflineSession[]> {
    const went: OfflineSession[] = [];
    for (let i = 0; i < entries.length; i += BATCH) {
      const args = entries.slice(i, i + BATCH).flatMap((e) => [e.socketId, e.sessionId, e.userId]);
      went.push(...(await this.scripts.presenceRemove(this.anchor, this.keyPrefix, Date.now(), instanceId, ...args)).map(parseMember));
    }
    return went;
  }

  async reap(): Promise<OfflineSession[]> {
    return (await this.scripts.presenceReap(this.anchor, this.keyPrefix, Date.now(), REAP_LIMIT)).map(parseMember);
  }

  async socketsOf(sessionId: string): Promise<SocketLocation[]> {
    const members = await this.redis.zrangebyscore(`${this.keyPrefix}s:${sessionId}`, `(${Date.now()}`, '+inf');
    return members.map((member) => {
      const [instanceId, socketId] = member.split(' ');
      return { instanceId, socketId };
    });
  }

  async onlineSessions(sessionIds: readonly string[]): Promise<Set<string>> {
    if (sessionIds.length === 0) return new Set();
    const from = `(${Date.now()}`;
    const counts = await Promise.all(sessionIds.map((id) => this.redis.zcount(`${this.keyPrefix}s:${id}`, from, '+inf')));
    return new Set(sessionIds.filter((_, i) => counts[i] > 0));
  }

  async onlineSessionsOfUser(userId: string): Promise<string[]> {
    return this.redis.zrangebyscore(`${this.keyPrefix}u:${userId}`, `(${Date.now()}`, '+inf');
  }

  async counts(): Promise<{ sessions: number; users: number }> {
    const from = `(${Date.now()}`;
    const [sessions, users] = await Promise.all([
      this.redis.zcount(`${this.keyPrefix}sessions`, from, '+inf'),
      this.redis.zcount(`${this.keyPrefix}users`, from, '+inf'),
    ]);
    return { sessions, users };
  }

  async publishEnds(ends: readonly SessionEnd[]): Promise<void> {
    if (ends.length === 0) return;
    const message = JSON.stringify({ ends });
    await (isCluster(this.redis) ? this.redis.spublish(this.channel, message) : this.redis.publish(this.channel, message));
  }

  onEnds(handler: (ends: SessionEnd[]) => void): void {
    this.handlers.push(handler);
  }

  private receive(message: string): void {
    let ends: unknown;
    try {
      ends = (JSON.parse(message) as { ends?: unknown }).ends;
    } catch {
      return;
    }
    if (!Array.isArray(ends)) return;
    const valid = ends.filter(
      (e): e is SessionEnd => typeof e?.sessionId === 'string' && typeof e?.userId === 'string' && typeof e?.reason === 'string',
    );
    for (const handler of this.handlers) handler(valid);
  }
}

function parseMember(member: string): OfflineSession {
  const sep = member.indexOf(' ');
  return { sessionId: member.slice(0, sep), userId: member.slice(sep + 1) };
}
