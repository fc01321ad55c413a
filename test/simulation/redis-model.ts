import { decodeCachedSession, encodeCachedSession } from '../../src/session/adapters/redis/cached-session.codec.js';
import { CircuitBreaker } from '../../src/session/adapters/redis/circuit-breaker.js';
import { sessionCacheKey } from '../../src/session/adapters/redis/redis-cache.tier.js';
import { REQUEST_PATH_REDIS_OPTIONS } from '../../src/session/adapters/redis/redis-connection.js';
import { ThrottledWarning } from '../../src/session/runtime/throttled-warning.js';
import type { Invalidation, InvalidationChannel, SharedSessionTier, TierLookup, Watermark } from '../../src/session/adapters/shared-session-tier.js';
import { CachedSession, REVOKED, type SupersededSession } from '../../src/session/ports/session-cache.js';
import { never, Scheduler } from './scheduler.js';

/**
 * Redis, modelled in process on the fake clock: one server (a key/value store with TTLs, sets,
 * pub/sub, its own clock for `TIME`, and out-of-memory refusals), two connections per process
 * (`RedisLink`: commands, and the subscriber), each host's network to it (`HostNetwork`), and over
 * them the two things `SharedSessionCache` uses — the tier (`ModelTier`, mirroring
 * `RedisCacheTier` and its Lua scripts) and the channel (`ModelChannel`, mirroring
 * `RedisInvalidationChannel`).
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
/** What `SET_UNLESS_REVOKED` answers when the fill reached Redis after its deadline. */
const TOO_LATE = -1;

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

/** What Redis answers a command flagged `denyoom` while it is at `maxmemory` with `noeviction`. */
export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

/**
 * The Redis server. Each command method runs whole, at once: one call is one command, or one
 * Lua script (atomic, as Redis runs them). Expired keys vanish when next touched.
 *
 * Out of memory (`maxmemory` with `noeviction`), it refuses every command flagged `denyoom`
 * (`SET`, `SADD`) with `OOM_ERROR` — in a script, the first such command, so the script fails —
 * and serves the others: reads, `DEL`, `SREM`, `EXPIRE`, `PUBLISH`, `PING`, `TIME`.
 */
export class RedisServer {
  status: 'up' | 'down' | 'frozen' = 'up';
  /** At `maxmemory` with `noeviction`: writes that could grow memory are refused. */
  oom = false;
  /** Its clock (`TIME`) against the simulation's: Redis runs on its own host. */
  clockOffsetMs = 0;
  /** Published messages reach subscribers when they arrive, not before Redis answers the publisher. */
  lateDelivery = false;
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
  }

  /** FLUSHALL: every key gone, connections kept. */
  flushall(): void {
    this.data = new Map();
  }

  // --- commands ---

  /** `TIME`, in milliseconds (seconds × 1000 + microseconds ÷ 1000, as the scripts compute it). */
  time(): number {
    return Date.now() + this.clockOffsetMs;
  }

  get(key: string): string | null {
    const value = this.live(key)?.value;
    return typeof value === 'string' ? value : null;
  }

  /** SET with EX or PX, and NX (`denyoom`: refused out of memory, even when NX finds the key). @returns false when NX found the key */
  set(key: string, value: string, options: { ex?: number; px?: number; nx?: boolean } = {}): boolean {
    this.denyOom();
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

  /** `denyoom`. */
  sadd(key: string, ...members: string[]): number {
    this.denyOom();
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

  /**
   * PUBLISH: written to every subscribed connection. By default answered once each connection
   * that can take it has handled it (see `RedisLink.deliver`); with `lateDelivery`, at once — the
   * subscribers read it when it reaches them, maybe after the publisher has its answer.
   */
  async publish(channel: string, message: string, instant = false): Promise<number> {
    const subscribers = [...this.links].filter((link) => link.subscribedTo(channel));
    const delivered = Promise.all(subscribers.map((link) => link.deliver(channel, message, instant)));
    if (!this.lateDelivery || instant) await delivered;
    return subscribers.length;
  }

  private denyOom(): void {
    if (this.oom) throw new Error(OOM_ERROR);
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

/** Where packets wait while a cut holds them (TCP retransmits), to go on when it heals. */
abstract class Cuttable {
  split: 'hold' | 'drop' | null = null;
  private held: Array<() => void> = [];

  cut(mode: 'hold' | 'drop'): void {
    this.split ??= mode;
  }

  hold(go: () => void): void {
    this.held.push(go);
  }

  /** Ends the cut: held packets go on; after a cut that lost packets the connections are reset. */
  heal(): void {
    const mode = this.split;
    if (mode === null) return;
    this.split = null;
    const held = this.held;
    this.held = [];
    if (mode === 'hold') for (const go of held) go();
    for (const link of this.connections()) {
      if (mode === 'drop') link.connectionLost();
      link.reconnectSoon();
    }
  }

  protected abstract connections(): Iterable<RedisLink>;
}

/**
 * The network between one host (an instance slot) and Redis. Cut, it loses packets (`drop`: the
 * connections will not survive, they are reset when it heals) or holds them (`hold`: TCP
 * retransmits, so what was sent arrives when it heals — a command the client long gave up on
 * runs late).
 */
export class HostNetwork extends Cuttable {
  readonly links = new Set<RedisLink>();

  protected connections(): Iterable<RedisLink> {
    return [...this.links];
  }
}

/**
 * One connection of a process to Redis, as ioredis keeps it. The command connection
 * (`enableOfflineQueue: false`, `commandTimeout`): a command while disconnected fails at once; a
 * command with no reply fails after the timeout (and may still run on the server later). The
 * subscriber connection (offline queue on, no timeout) carries subscriptions only. Either
 * reconnects after a disconnection as ioredis's retry strategy does (100 ms × attempt, at most
 * 2 s) and subscribes again by itself. It can be cut alone (`split`: a proxy or a firewall losing
 * one flow), as its host's network can.
 */
export class RedisLink extends Cuttable {
  state: 'ready' | 'connecting' = 'connecting';
  dead = false;
  /** Grows at every new connection: what was sent on an older one is lost. */
  private epoch = 0;
  private connectedOnce = false;
  private attempts = 0;
  private retrying = false;
  private readonly subscriptions = new Map<string, (message: string) => void>();
  private readonly reconnectHandlers: Array<() => void> = [];
  private readonly closeHandlers: Array<() => void> = [];
  private readonly readyWaiters: Array<() => void> = [];

  constructor(
    private readonly server: RedisServer,
    private readonly host: HostNetwork,
    private readonly scheduler: Scheduler,
  ) {
    super();
    server.attach(this);
    host.links.add(this);
    this.tryConnect();
  }

  protected connections(): Iterable<RedisLink> {
    return [this];
  }

  /**
   * Sends one command (or script) to the server; rejects like ioredis when it cannot be answered
   * (an error the command raised on the server included). `instant`: no latency (heartbeats —
   * most of the traffic, and a few milliseconds change nothing against their one-second rule);
   * cuts and outages still apply.
   */
  command<T>(run: (db: RedisServer) => T | Promise<T>, instant = false): Promise<T> {
    if (this.dead) return never();
    if (this.state !== 'ready') return Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    // Without latency on a clear path the reply comes before any timer could fire: no timeout
    // timer (heartbeats are most commands; a timer each doubled the cost of a run).
    if (instant && this.server.status === 'up' && !this.host.split && !this.split) {
      try {
        return Promise.resolve(run(this.server));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    const epoch = this.epoch;
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const timer = setTimeout(() => {
        if (answered || this.dead) return;
        answered = true;
        reject(new Error('Command timed out'));
      }, COMMAND_TIMEOUT_MS);
      const reply = (outcome: { value: T } | { error: Error }) => {
        if (answered || this.dead) return;
        answered = true;
        clearTimeout(timer);
        if ('error' in outcome) reject(outcome.error);
        else resolve(outcome.value);
      };
      const kind = instant ? null : 'commandMs';
      const answer = (outcome: { value: T } | { error: Error }) => this.send(epoch, kind, () => reply(outcome));
      this.send(epoch, kind, () =>
        this.server.receive(() => {
          let result: T | Promise<T>;
          try {
            result = run(this.server);
          } catch (error) {
            return answer({ error: error as Error });
          }
          void Promise.resolve(result).then(
            (value) => answer({ value }),
            (error: Error) => answer({ error }),
          );
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
   * subscriber; unless the server delivers late, a healthy subscriber is taken to read it before
   * the publisher reads the answer — what `RedisInvalidationChannel` relies on.
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

  /** Called after each reconnection (ioredis's `ready` after the first; see README). */
  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  /** Called whenever a connection that was up closes (ioredis's `close`). */
  onClose(handler: () => void): void {
    this.closeHandlers.push(handler);
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

  /** The connection closed (server died, reset, a cut that dropped it): what was in flight is lost; it reconnects by itself. */
  connectionLost(): void {
    if (this.dead) return;
    const wasUp = this.state === 'ready';
    this.state = 'connecting';
    this.epoch += 1;
    if (wasUp) for (const handler of this.closeHandlers) handler();
    this.reconnectSoon();
  }

  /** Tries to reconnect after ioredis's backoff (100 ms × attempt, at most 2 s), until it is connected. */
  reconnectSoon(): void {
    if (this.dead || this.state === 'ready' || this.retrying) return;
    this.retrying = true;
    this.attempts += 1;
    this.scheduler.run(Math.min(this.attempts * 100, RECONNECT_MAX_MS) + this.scheduler.delay('commandMs'), () => {
      this.retrying = false;
      this.tryConnect();
      this.reconnectSoon();
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
    if (this.dead || this.state === 'ready' || this.server.status !== 'up' || this.host.split || this.split) return;
    this.state = 'ready';
    this.epoch += 1;
    this.attempts = 0;
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    if (this.connectedOnce) for (const handler of this.reconnectHandlers) handler();
    this.connectedOnce = true;
  }

  /** One packet, host to Redis or back, over the connection of `epoch`. */
  private send(epoch: number, kind: 'commandMs' | 'messageMs' | null, arrive: () => void, lost?: () => void): void {
    const go = () => {
      if (epoch !== this.epoch) return lost?.();
      const cut: Cuttable | null = this.host.split ? this.host : this.split ? this : null;
      if (cut?.split === 'drop') return lost?.();
      if (cut?.split === 'hold') {
        cut.hold(go);
        return lost?.();
      }
      arrive();
    };
    this.scheduler.run(kind === null ? 0 : this.scheduler.delay(kind), go);
  }
}

/** `RedisCacheTier`'s watermark parser: `epoch:mark`, or null for anything else. */
function parseWatermark(text: string | null): Watermark | null {
  const [epoch, mark] = text?.split(':') ?? [];
  return epoch && mark && /^\d+$/.test(mark) ? { epoch, mark: Number(mark) } : null;
}

/** Lua's `string.format('%.0f', mark)` of a whole number. */
const formatMark = (mark: number) => mark.toFixed(0);

/**
 * `RedisCacheTier` over the model: the same keys, values (the real codec, with the epoch), TTLs
 * and Lua scripts (each one `command`, line for line, `TIME` from the server's own clock),
 * through the real `CircuitBreaker` with the connection's settings.
 */
export class ModelTier implements SharedSessionTier {
  readonly backend = 'redis';
  private readonly lateFill = new ThrottledWarning('SessionCache');

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

  onReconnect(handler: () => void): void {
    this.link.onReconnect(handler);
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
    const [text, pttl] = reply;
    const ttlMs = pttl > 0 ? pttl : 0;
    if (text === TOMBSTONE) return { entry: REVOKED, ttlMs };
    if (text.startsWith('^')) return null; // a supersede floor
    const decoded = decodeCachedSession(text);
    return decoded === null ? null : { entry: decoded.session, epoch: decoded.epoch, ttlMs };
  }

  async set(accessHash: string, session: CachedSession, ttlSeconds: number, epoch: string, notAfter: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const userKey = this.userKey(session.userId);
    const value = encodeCachedSession(session, epoch);
    const deadline = Math.floor(notAfter);
    const key = this.sessionKey(accessHash);
    const watermarkKey = this.watermarkKey;
    await this.breaker.run(async () => {
      // SET_UNLESS_REVOKED over the session key and the watermark (the model is a single Redis, not a Cluster)
      const stored = await this.link.command((db) => {
        const current = db.get(key);
        if (current === TOMBSTONE) return 0;
        const held = current === null ? null : current.startsWith('^') ? Number(current.slice(1)) : decodeCachedSession(current)?.session.version;
        if (held != null && held > session.version) return 0;
        if (db.time() > deadline) return -1;
        const watermark = db.get(watermarkKey);
        if (!watermark || !watermark.startsWith(`${epoch}:`)) return -2;
        db.set(key, value, { ex: ttl });
        return 1;
      });
      if (stored === TOO_LATE) {
        this.lateFill.warn('A session cache fill reached Redis after its deadline and was not written (held in the network, or this instance’s clock runs behind Redis’s)');
      }
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

  async supersede(userId: string, sessions: readonly SupersededSession[]): Promise<void> {
    if (sessions.length === 0) return;
    await this.breaker.run(() =>
      Promise.all([
        // SUPERSEDE
        ...sessions.map(({ accessHash, version }) =>
          this.link.command((db) => {
            const key = this.sessionKey(accessHash);
            const current = db.get(key);
            if (current === TOMBSTONE || (current?.startsWith('^') && Number(current.slice(1)) >= version)) return 0;
            db.set(key, `^${version}`, { ex: this.tombstoneSeconds });
            return 1;
          }),
        ),
        this.link.command((db) => db.srem(this.userKey(userId), ...sessions.map(({ accessHash }) => shortHash(accessHash)))),
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

  async watermark(): Promise<Watermark | null> {
    return parseWatermark(await this.breaker.run(() => this.link.command((db) => db.get(this.watermarkKey))));
  }

  async createWatermark(candidate: Watermark, marginMs: number): Promise<Watermark> {
    const key = this.watermarkKey;
    const epoch = candidate.epoch;
    const argMark = Math.floor(candidate.mark);
    // CREATE_WATERMARK: CLAMPED_MARK, then SET NX and GET
    const text = await this.breaker.run(() =>
      this.link.command((db) => {
        const mark = Math.min(argMark, db.time() - marginMs);
        db.set(key, `${epoch}:${formatMark(mark)}`, { nx: true });
        return db.get(key);
      }),
    );
    const holds = parseWatermark(text);
    if (!holds) throw new Error(`The session cache watermark ${key} holds something else than epoch:mark`);
    return holds;
  }

  async advanceWatermark(epoch: string, mark: number, marginMs: number): Promise<void> {
    const key = this.watermarkKey;
    const argMark = Math.floor(mark);
    // ADVANCE_WATERMARK: CLAMPED_MARK, then a move forward within the same epoch
    await this.breaker.run(() =>
      this.link.command((db) => {
        const clamped = Math.min(argMark, db.time() - marginMs);
        const current = db.get(key);
        if (!current) return 0;
        const sep = current.indexOf(':');
        if (sep < 0 || current.slice(0, sep) !== epoch) return 0;
        if (Number(current.slice(sep + 1)) >= clamped) return 0;
        db.set(key, `${epoch}:${formatMark(clamped)}`);
        return 1;
      }),
    );
  }

  async lease(job: string, ms: number): Promise<boolean> {
    const key = `${this.prefix}${job}`;
    const taken = await this.breaker.run(() => this.link.command((db) => (db.set(key, '1', { px: Math.max(1, Math.floor(ms)), nx: true }) ? 'OK' : null)));
    return taken === 'OK';
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

  private get watermarkKey(): string {
    return `${this.prefix}w`;
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

/**
 * `RedisInvalidationChannel` over the model, line for line where it matters: publishes (and
 * beats) on the command connection, hears on its own subscriber connection; a beat every
 * `heartbeatMs`, healthy while its own beat came back within `staleMs`, unhealthy at once when
 * the subscriber connection closes (it may have missed messages); health handlers called on every
 * change (checked at each beat and each read of `healthy`).
 */
export class ModelChannel implements InvalidationChannel {
  private readonly handlers: Array<(invalidation: Invalidation) => void> = [];
  private readonly healthHandlers: Array<(healthy: boolean) => void> = [];
  private lastBeat = 0;
  private timer?: NodeJS.Timeout;
  private wasHealthy = false;
  private closed = false;

  constructor(
    private readonly publisher: RedisLink,
    private readonly subscriber: RedisLink,
    private readonly instanceId: string,
    private readonly channel = 'nsm:invalidate',
    private readonly heartbeatMs = 200,
    private readonly staleMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.subscriber.subscribe(this.channel, (message) => this.receive(message));
    this.subscriber.onClose(() => {
      if (this.closed) return;
      this.lastBeat = 0;
      void this.healthy;
    });
    await this.subscriber.whenReady(SUBSCRIBE_WAIT_MS);
    this.beat();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.subscriber.unsubscribe(this.channel);
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
    return this.publisher.command((db) => db.publish(this.channel, message, instant), instant);
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
    const { hashes, userId, unmarked } = parsed;
    for (const handler of this.handlers) handler({ hashes, userId, unmarked });
  }
}
