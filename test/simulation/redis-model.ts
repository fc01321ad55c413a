import { decodeCachedSession, encodeCachedSession } from '../../src/session/adapters/redis/cached-session.codec.js';
import { CircuitBreaker } from '../../src/session/adapters/redis/circuit-breaker.js';
import { sessionCacheKey } from '../../src/session/adapters/redis/redis-cache.tier.js';
import { REQUEST_PATH_REDIS_OPTIONS } from '../../src/session/adapters/redis/redis-connection.js';
import type { InvalidationChannel, SharedSessionTier, TierLookup } from '../../src/session/adapters/shared-session-tier.js';
import { CachedSession, REVOKED } from '../../src/session/ports/session-cache.js';
import { never, Scheduler } from './scheduler.js';

/**
 * Redis, modelled in process on the fake clock: one server (a key/value store with TTLs, sets and
 * pub/sub), one connection per process (`RedisLink`), each host's network to it (`HostNetwork`),
 * and over a link the two things `SharedSessionCache` uses — the tier (`ModelTier`, mirroring
 * `RedisCacheTier`) and the channel (`ModelChannel`, mirroring `RedisInvalidationChannel`).
 *
 * The server knows keys only: a new tier method (a watermark, a lease) is a few lines of
 * `command(db => …)` over `get`/`set`/`del`, one call per Redis command or Lua script.
 */

/** ioredis fails a command after this long without a reply (the request path's client setting). */
export const COMMAND_TIMEOUT_MS = REQUEST_PATH_REDIS_OPTIONS.commandTimeout!;
/** `SessionRedisConnection`'s breaker: opens after 2 failures in a row, probes every 500 ms. */
export const BREAKER = { failureThreshold: 2, openMs: 500 } as const;
/** ioredis's retry strategy waits at most 2 s between reconnection attempts. */
const RECONNECT_MAX_MS = 2000;
/** `RedisInvalidationChannel`'s longest wait for its subscription at start. */
const SUBSCRIBE_WAIT_MS = 3000;
/** `RedisCacheTier`'s revocation mark. */
const TOMBSTONE = '!';

type Value = string | Set<string>;
interface Stored {
  value: Value;
  /** Epoch ms; null: no TTL. */
  expiresAt: number | null;
}

/** The data set at a moment, as an RDB file keeps it: values and absolute expiry times. */
export interface RedisSnapshot {
  takenAt: number;
  data: Map<string, Stored>;
}

const copyOf = (data: Map<string, Stored>) =>
  new Map([...data].map(([key, s]) => [key, { value: typeof s.value === 'string' ? s.value : new Set(s.value), expiresAt: s.expiresAt }]));

/**
 * The Redis server. Each command method runs whole, at once: one call is one command, or one
 * Lua script (atomic, as Redis runs them). Expired keys vanish when next touched.
 */
export class RedisServer {
  status: 'up' | 'down' | 'frozen' = 'up';
  readonly snapshots: RedisSnapshot[] = [];
  private data = new Map<string, Stored>();
  /** Commands that arrived while frozen, run in order on thaw. */
  private frozen: Array<() => void> = [];
  private readonly links = new Set<RedisLink>();

  attach(link: RedisLink): void {
    this.links.add(link);
  }

  detach(link: RedisLink): void {
    this.links.delete(link);
  }

  /** A command arriving: it runs now, after a thaw, or never (the server is down). */
  receive(run: () => void): void {
    if (this.status === 'up') run();
    else if (this.status === 'frozen') this.frozen.push(run);
  }

  // --- server events ---

  /** Copies the data set (BGSAVE). */
  snapshot(): void {
    this.snapshots.push({ takenAt: Date.now(), data: copyOf(this.data) });
  }

  /** The process dies: every connection closes, the data set is gone. */
  crash(): void {
    this.status = 'down';
    this.data = new Map();
    this.frozen = [];
    for (const link of this.links) link.connectionLost();
  }

  /** Starts again, empty (no persistence) or from a snapshot; clients reconnect by themselves. */
  boot(from?: RedisSnapshot): void {
    this.data = from ? copyOf(from.data) : new Map();
    this.status = 'up';
    for (const link of this.links) link.reconnectSoon();
  }

  /** Stops answering, sockets open (SIGSTOP, a long fork): commands wait in the sockets. */
  freeze(): void {
    if (this.status === 'up') this.status = 'frozen';
  }

  thaw(): void {
    if (this.status !== 'frozen') return;
    this.status = 'up';
    const queued = this.frozen;
    this.frozen = [];
    for (const run of queued) run();
    for (const link of this.links) link.reconnectSoon();
  }

  // --- commands ---

  get(key: string): string | null {
    const value = this.live(key)?.value;
    return typeof value === 'string' ? value : null;
  }

  /** SET with EX or PX, and NX. @returns false when NX found the key */
  set(key: string, value: string, options: { ex?: number; px?: number; nx?: boolean } = {}): boolean {
    if (options.nx && this.live(key)) return false;
    const ttlMs = options.px ?? (options.ex === undefined ? undefined : options.ex * 1000);
    this.data.set(key, { value, expiresAt: ttlMs === undefined ? null : Date.now() + ttlMs });
    return true;
  }

  del(...keys: string[]): number {
    let deleted = 0;
    for (const key of keys) if (this.live(key) && this.data.delete(key)) deleted += 1;
    return deleted;
  }

  /** Milliseconds left; -1 without a TTL, -2 without the key. */
  pttl(key: string): number {
    const stored = this.live(key);
    if (!stored) return -2;
    return stored.expiresAt === null ? -1 : stored.expiresAt - Date.now();
  }

  /** EXPIRE key seconds [GT | NX]; GT treats a key without a TTL as infinite. */
  expire(key: string, seconds: number, mode?: 'GT' | 'NX'): boolean {
    const stored = this.live(key);
    if (!stored) return false;
    const expiresAt = Date.now() + seconds * 1000;
    if (mode === 'NX' && stored.expiresAt !== null) return false;
    if (mode === 'GT' && (stored.expiresAt === null || expiresAt <= stored.expiresAt)) return false;
    stored.expiresAt = expiresAt;
    return true;
  }

  sadd(key: string, ...members: string[]): number {
    let stored = this.live(key);
    if (!stored) this.data.set(key, (stored = { value: new Set(), expiresAt: null }));
    const set = stored.value as Set<string>;
    const before = set.size;
    for (const member of members) set.add(member);
    return set.size - before;
  }

  srem(key: string, ...members: string[]): number {
    const set = this.live(key)?.value;
    if (!(set instanceof Set)) return 0;
    let removed = 0;
    for (const member of members) if (set.delete(member)) removed += 1;
    if (set.size === 0) this.data.delete(key);
    return removed;
  }

  smembers(key: string): string[] {
    const set = this.live(key)?.value;
    return set instanceof Set ? [...set] : [];
  }

  /** PUBLISH: sent to every subscribed connection. Answered once each connection that can take it has (see `RedisLink.deliver`). */
  async publish(channel: string, message: string, instant = false): Promise<number> {
    const subscribers = [...this.links].filter((link) => link.subscribedTo(channel));
    await Promise.all(subscribers.map((link) => link.deliver(channel, message, instant)));
    return subscribers.length;
  }

  private live(key: string): Stored | undefined {
    const stored = this.data.get(key);
    if (stored?.expiresAt != null && stored.expiresAt <= Date.now()) {
      this.data.delete(key);
      return undefined;
    }
    return stored;
  }
}

/**
 * The network between one host (an instance slot) and Redis. Cut, it loses packets (`drop`: the
 * connections will not survive, they are reset when it heals) or holds them (`hold`: TCP
 * retransmits, so what was sent arrives when it heals — a command the client long gave up on
 * runs late).
 */
export class HostNetwork {
  split: 'hold' | 'drop' | null = null;
  readonly links = new Set<RedisLink>();
  private held: Array<() => void> = [];

  cut(mode: 'hold' | 'drop'): void {
    this.split ??= mode;
  }

  heal(): void {
    const mode = this.split;
    this.split = null;
    const held = this.held;
    this.held = [];
    if (mode === 'hold') for (const go of held) go();
    for (const link of this.links) {
      if (mode === 'drop') link.connectionLost();
      link.reconnectSoon();
    }
  }

  hold(go: () => void): void {
    this.held.push(go);
  }
}

/**
 * One process's connection to Redis (its command and subscriber connections together): what
 * ioredis does with `enableOfflineQueue: false` and `commandTimeout` — a command while
 * disconnected fails at once; a command with no reply fails after the timeout (and may still run
 * on the server later); after a disconnection it reconnects and subscribes again by itself.
 */
export class RedisLink {
  state: 'ready' | 'connecting' = 'connecting';
  dead = false;
  /** Grows at every new connection: what was sent on an older one is lost. */
  private epoch = 0;
  private connectedOnce = false;
  private reconnecting = false;
  private readonly subscriptions = new Map<string, (message: string) => void>();
  private readonly reconnectHandlers: Array<() => void> = [];
  private readonly readyWaiters: Array<() => void> = [];

  constructor(
    private readonly server: RedisServer,
    private readonly host: HostNetwork,
    private readonly scheduler: Scheduler,
  ) {
    server.attach(this);
    host.links.add(this);
    this.tryConnect();
  }

  /**
   * Sends one command (or script) to the server; rejects like ioredis when it cannot be answered.
   * `instant`: no latency (heartbeats — most of the traffic, and a few milliseconds change nothing
   * against their one-second rule); cuts and outages still apply.
   */
  command<T>(run: (db: RedisServer) => T | Promise<T>, instant = false): Promise<T> {
    if (this.dead) return never();
    if (this.state !== 'ready') return Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    const epoch = this.epoch;
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const timer = setTimeout(() => {
        if (answered || this.dead) return;
        answered = true;
        reject(new Error('Command timed out'));
      }, COMMAND_TIMEOUT_MS);
      const reply = (value: T) => {
        if (answered || this.dead) return;
        answered = true;
        clearTimeout(timer);
        resolve(value);
      };
      const kind = instant ? null : 'commandMs';
      this.send(epoch, kind, () =>
        this.server.receive(() => {
          void Promise.resolve(run(this.server)).then((value) => this.send(epoch, kind, () => reply(value)));
        }),
      );
    });
  }

  subscribe(channel: string, handler: (message: string) => void): void {
    this.subscriptions.set(channel, handler);
  }

  unsubscribe(channel: string): void {
    this.subscriptions.delete(channel);
  }

  subscribedTo(channel: string): boolean {
    return this.state === 'ready' && this.subscriptions.has(channel);
  }

  /**
   * A published message on its way to this subscriber. Resolves once handled, or at once when it
   * will not arrive now (held or lost): Redis answers the publisher after writing to every
   * subscriber, and a healthy subscriber is taken to read it before the publisher reads the
   * answer — what `RedisInvalidationChannel` relies on.
   */
  deliver(channel: string, message: string, instant = false): Promise<void> {
    const epoch = this.epoch;
    return new Promise((resolve) =>
      this.send(
        epoch,
        instant ? null : 'messageMs',
        () => {
          this.subscriptions.get(channel)?.(message);
          resolve();
        },
        resolve,
      ),
    );
  }

  /** Called after each reconnection (not the first connection). */
  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  /** Resolves once connected, or after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The connection closed (server died, reset, a cut that dropped it): what was in flight is lost. */
  connectionLost(): void {
    if (this.dead) return;
    this.state = 'connecting';
    this.epoch += 1;
  }

  /** Reconnects after a backoff, if it is not connected. */
  reconnectSoon(): void {
    if (this.dead || this.state === 'ready' || this.reconnecting) return;
    this.reconnecting = true;
    this.scheduler.run(1 + this.scheduler.rng.below(RECONNECT_MAX_MS), () => {
      this.reconnecting = false;
      this.tryConnect();
    });
  }

  /** The process died: nothing it sent or will send arrives, nothing it waits for settles. */
  kill(): void {
    this.dead = true;
    this.epoch += 1;
    this.state = 'connecting';
    this.server.detach(this);
    this.host.links.delete(this);
  }

  private tryConnect(): void {
    if (this.dead || this.state === 'ready' || this.server.status !== 'up' || this.host.split) return;
    this.state = 'ready';
    this.epoch += 1;
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    if (this.connectedOnce) for (const handler of this.reconnectHandlers) handler();
    this.connectedOnce = true;
  }

  /** One packet, host to Redis or back, over the connection of `epoch`. */
  private send(epoch: number, kind: 'commandMs' | 'messageMs' | null, arrive: () => void, lost?: () => void): void {
    const go = () => {
      if (epoch !== this.epoch || this.host.split === 'drop') return lost?.();
      if (this.host.split === 'hold') {
        this.host.hold(go);
        return lost?.();
      }
      arrive();
    };
    this.scheduler.run(kind === null ? 0 : this.scheduler.delay(kind), go);
  }
}

/**
 * `RedisCacheTier` over the model: the same keys, values (the real codec), TTLs and Lua scripts
 * (each one `command`), through the real `CircuitBreaker` with the connection's settings.
 */
export class ModelTier implements SharedSessionTier {
  readonly backend = 'redis';

  constructor(
    private readonly link: RedisLink,
    private readonly breaker: CircuitBreaker,
    private readonly prefix = 'nsm:',
    private readonly tombstoneSeconds = 300,
  ) {}

  get available(): boolean {
    return !this.breaker.isOpen;
  }

  /** `ConnectionUse.start`: waits (at most 3 s) for the client to be ready. */
  start(): Promise<void> {
    return this.link.whenReady(3000);
  }

  async get(accessHash: string): Promise<TierLookup> {
    const key = this.sessionKey(accessHash);
    // GET_WITH_TTL
    const reply = await this.breaker.run(() =>
      this.link.command((db) => {
        const value = db.get(key);
        return value === null ? null : ([value, db.pttl(key)] as const);
      }),
    );
    if (reply === null) return null;
    const [text, ttlMs] = reply;
    const entry = text === TOMBSTONE ? REVOKED : decodeCachedSession(text);
    return entry === null ? null : { entry, ttlMs: ttlMs > 0 ? ttlMs : 0 };
  }

  async set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const key = this.sessionKey(accessHash);
    const userKey = this.userKey(session.userId);
    const text = encodeCachedSession(session);
    await this.breaker.run(async () => {
      // SET_UNLESS_REVOKED
      const stored = await this.link.command((db) => {
        if (db.get(key) === TOMBSTONE) return 0;
        db.set(key, text, { ex: ttl });
        return 1;
      });
      if (stored !== 1) return;
      await this.link.command((db) => db.sadd(userKey, shortHash(accessHash)));
      await this.link.command((db) => db.expire(userKey, ttl, 'GT'));
      await this.link.command((db) => db.expire(userKey, ttl, 'NX'));
    });
  }

  async markRevoked(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    await this.breaker.run(() =>
      Promise.all([
        ...accessHashes.map((hash) => this.link.command((db) => db.set(this.sessionKey(hash), TOMBSTONE, { ex: this.tombstoneSeconds }))),
        this.link.command((db) => db.srem(this.userKey(userId), ...accessHashes.map(shortHash))),
      ]),
    );
  }

  async forget(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    await this.breaker.run(() =>
      Promise.all([
        ...accessHashes.map((hash) => this.link.command((db) => db.del(this.sessionKey(hash)))),
        this.link.command((db) => db.srem(this.userKey(userId), ...accessHashes.map(shortHash))),
      ]),
    );
  }

  async deleteUser(userId: string): Promise<void> {
    const userKey = this.userKey(userId);
    await this.breaker.run(async () => {
      const members = await this.link.command((db) => db.smembers(userKey));
      await Promise.all(members.map((member) => this.link.command((db) => db.del(`${this.prefix}s:${member}`))));
      await this.link.command((db) => db.del(userKey));
    });
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.link.command(() => 'PONG')) === 'PONG';
    } catch {
      return false;
    }
  }

  private sessionKey(accessHash: string): string {
    return sessionCacheKey(this.prefix, accessHash);
  }

  private userKey(userId: string): string {
    return `${this.prefix}u:${userId}`;
  }
}

const shortHash = (accessHash: string) => accessHash.slice(0, 22);

/** The connection's circuit breaker, as `SessionRedisConnection` makes it: the probe is a PING on the same link. */
export function breakerFor(link: RedisLink): CircuitBreaker {
  return new CircuitBreaker({ ...BREAKER, probe: () => link.command(() => 'PONG') });
}

/** What one instance tells the others. */
interface Invalidation {
  hashes?: string[];
  userId?: string;
}

/**
 * `RedisInvalidationChannel` over the model, line for line where it matters: a beat published
 * every `heartbeatMs`, healthy while its own beat came back within `staleMs`, health handlers
 * called on every change (checked at each beat and each read of `healthy`).
 */
export class ModelChannel implements InvalidationChannel {
  private readonly handlers: Array<(invalidation: Invalidation) => void> = [];
  private readonly healthHandlers: Array<(healthy: boolean) => void> = [];
  private lastBeat = 0;
  private timer?: NodeJS.Timeout;
  private wasHealthy = false;

  constructor(
    private readonly link: RedisLink,
    private readonly instanceId: string,
    private readonly channel = 'nsm:invalidate',
    private readonly heartbeatMs = 200,
    private readonly staleMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.link.subscribe(this.channel, (message) => this.receive(message));
    await this.link.whenReady(SUBSCRIBE_WAIT_MS);
    this.beat();
  }

  close(): void {
    clearTimeout(this.timer);
    this.link.unsubscribe(this.channel);
  }

  get healthy(): boolean {
    const healthy = Date.now() - this.lastBeat < this.staleMs;
    if (healthy !== this.wasHealthy) {
      this.wasHealthy = healthy;
      for (const handler of this.healthHandlers) handler(healthy);
    }
    return healthy;
  }

  onHealthChange(handler: (healthy: boolean) => void): void {
    this.healthHandlers.push(handler);
  }

  onInvalidation(handler: (invalidation: Invalidation) => void): void {
    this.handlers.push(handler);
  }

  async publish(invalidation: Invalidation): Promise<void> {
    await this.send(JSON.stringify({ ...invalidation, from: this.instanceId }));
  }

  private send(message: string, instant = false): Promise<number> {
    return this.link.command((db) => db.publish(this.channel, message, instant), instant);
  }

  private beat(): void {
    void this.healthy;
    this.send(JSON.stringify({ beat: this.instanceId }), true).catch(() => undefined);
    this.timer = setTimeout(() => this.beat(), this.heartbeatMs);
  }

  private receive(message: string): void {
    const parsed = JSON.parse(message) as Invalidation & { beat?: string };
    if (parsed.beat !== undefined) {
      if (parsed.beat === this.instanceId) this.lastBeat = Date.now();
      return;
    }
    for (const handler of this.handlers) handler({ hashes: parsed.hashes, userId: parsed.userId });
  }
}
