import type { Cluster, Redis } from 'ioredis';
import { CachedSession, REVOKED, type SupersededSession } from '../../ports/session-cache.js';
import type { SharedSessionTier, TierLookup, Watermark } from '../shared-session-tier.js';
import { decodeCachedSession, encodeCachedSession } from './cached-session.codec.js';
import { ThrottledWarning } from '../../runtime/throttled-warning.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { KeyMemorySample } from '../../ports/cache-observation.js';
import { RedisKeyMemorySampler } from './redis-key-memory.sampler.js';
import { ConnectionUse, isCluster, type SessionRedisConnection } from './redis-connection.js';

const TOMBSTONE = '!';
/** A `supersede` floor is `^<version>`: a fill of a lower version is refused; it reads as a miss. */
const FLOOR = '^';

/**
 * The Redis key of a cached session: the first 22 characters (128 bits) of its access-token hash,
 * enough to never collide, and 21 bytes less per session than the whole hash.
 */
export function sessionCacheKey(prefix: string, accessHash: string): string {
  return `${prefix}s:${shortHash(accessHash)}`;
}

/** What the key and the user's index carry of an access hash. */
const shortHash = (accessHash: string) => accessHash.slice(0, 22);

/**
 * Sets a session (ARGV[1], for ARGV[2] seconds) unless its key holds a revocation mark, so a late
 * fill cannot undo a revocation — nor one that reaches Redis after ARGV[3] (epoch ms, by Redis's
 * own clock: a fill held in the network, TCP retransmitting through a partition, longer than a
 * mark lives), nor one whose epoch (ARGV[4]) the watermark (KEYS[2]) does not hold (a fill that
 * read the store before an end and lands after a FLUSHALL took its mark and the watermark).
 * KEYS[2] is left out on Redis Cluster, where the watermark lives in another slot. Nor one whose
 * version (ARGV[5]) is lower than the key's floor (`supersede`) or than the session it holds (the
 * 11th field of the codec's format, base 36): a read from before a change to the session.
 * Answers 1 when set; 0 marked revoked or older, -1 too late, -2 not the watermark's epoch.
 */
const SET_UNLESS_REVOKED = `
local current = redis.call('GET', KEYS[1])
if current == '${TOMBSTONE}' then return 0 end
if current then
  local held
  if string.sub(current, 1, 1) == '${FLOOR}' then
    held = tonumber(string.sub(current, 2))
  else
    local start = 1
    for _ = 1, 10 do
      local sep = string.find(current, '|', start, true)
      if not sep then start = nil break end
      start = sep + 1
    end
    if start then
      local stop = string.find(current, '|', start, true)
      held = tonumber(string.sub(current, start, (stop or 0) - 1), 36)
    end
  end
  if held and held > tonumber(ARGV[5]) then return 0 end
end
local time = redis.call('TIME')
if tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) > tonumber(ARGV[3]) then return -1 end
if KEYS[2] then
  local watermark = redis.call('GET', KEYS[2])
  if not watermark or string.sub(watermark, 1, string.len(ARGV[4]) + 1) ~= ARGV[4] .. ':' then return -2 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
`;

/** Puts the floor ARGV[1] (for ARGV[2] seconds) unless the key holds a revocation mark or a higher floor. */
const SUPERSEDE = `
local current = redis.call('GET', KEYS[1])
if current == '${TOMBSTONE}' then return 0 end
if current and string.sub(current, 1, 1) == '${FLOOR}' and tonumber(string.sub(current, 2)) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], '${FLOOR}' .. ARGV[1], 'EX', ARGV[2])
return 1
`;

/** A key's value and how many milliseconds it has left, in one round trip (one key: Cluster-safe). */
const GET_WITH_TTL = `
local value = redis.call('GET', KEYS[1])
if not value then return nil end
return { value, redis.call('PTTL', KEYS[1]) }
`;

/** ARGV[2], but never later than Redis's clock minus ARGV[3] milliseconds. */
const CLAMPED_MARK = `
local time = redis.call('TIME')
local mark = math.min(tonumber(ARGV[2]), tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - tonumber(ARGV[3]))
`;

/** Sets the watermark `ARGV[1]:mark` unless there is one; answers the one that holds. */
const CREATE_WATERMARK = `${CLAMPED_MARK}
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. string.format('%.0f', mark), 'NX')
return redis.call('GET', KEYS[1])
`;

/** Moves the watermark (`epoch:mark`) forward if its epoch is still ARGV[1]; never back. */
const ADVANCE_WATERMARK = `${CLAMPED_MARK}
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local sep = string.find(current, ':', 1, true)
if not sep or string.sub(current, 1, sep - 1) ~= ARGV[1] then return 0 end
if tonumber(string.sub(current, sep + 1)) >= mark then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. string.format('%.0f', mark))
return 1
`;

/** Each script and how many keys it takes. */
const SCRIPTS = {
  setUnlessRevoked: { lua: SET_UNLESS_REVOKED, keys: 2 },
  // The same script over the session key alone: Redis Cluster (see `set`).
  setUnlessRevokedInSlot: { lua: SET_UNLESS_REVOKED, keys: 1 },
  getWithTtl: { lua: GET_WITH_TTL, keys: 1 },
  supersede: { lua: SUPERSEDE, keys: 1 },
  createWatermark: { lua: CREATE_WATERMARK, keys: 1 },
  advanceWatermark: { lua: ADVANCE_WATERMARK, keys: 1 },
};
type Scripts = { [name in keyof typeof SCRIPTS]: (...args: unknown[]) => Promise<unknown> };

/** What `SET_UNLESS_REVOKED` answers when the fill reached Redis after its deadline. */
const TOO_LATE = -1;

/** `epoch:mark`, or null for anything else. */
function parseWatermark(text: string | null): Watermark | null {
  const [epoch, mark] = text?.split(':') ?? [];
  return epoch && mark && /^\d+$/.test(mark) ? { epoch, mark: Number(mark) } : null;
}

/**
 * The Redis tier of `SharedSessionCache`: one string key per access hash with a TTL (or a
 * revocation mark), and one set per user indexing that user's keys (its TTL follows the longest
 * entry, so it cannot outgrow them), a watermark (`<prefix>w`: `epoch:mark`) and the reconciliation
 * lease (`<prefix>wl`). Each command touches one key, so it runs unchanged on Redis Cluster — but
 * for a fill on a single Redis (or Sentinel), which also reads the watermark, in the same script.
 * Every call goes through the connection's circuit breaker, so a dead or frozen Redis fails fast;
 * failures reject (the cache above decides what they mean).
 */
export class RedisCacheTier implements SharedSessionTier {
  private readonly redis: Redis | Cluster;
  private readonly breaker: CircuitBreaker;
  private readonly use: ConnectionUse;
  private readonly cluster: boolean;
  private readonly lateFill = new ThrottledWarning('SessionCache');
  private readonly memory: RedisKeyMemorySampler;

  constructor(
    connection: SessionRedisConnection,
    private readonly prefix: string,
    /** Seconds a revocation mark lasts: longer than any cache fill can be in flight. */
    private readonly tombstoneSeconds = 300,
  ) {
    this.use = new ConnectionUse(connection);
    this.redis = connection.client;
    this.breaker = connection.breaker;
    this.cluster = isCluster(this.redis);
    this.memory = new RedisKeyMemorySampler(this.redis, prefix);
    for (const [name, { lua, keys }] of Object.entries(SCRIPTS)) {
      if (!(name in this.redis)) this.redis.defineCommand(name, { numberOfKeys: keys, lua });
    }
  }

  private get scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }

  readonly backend = 'redis';

  /** False while the circuit breaker keeps requests off Redis. */
  get available(): boolean {
    return !this.breaker.isOpen;
  }

  start(): Promise<void> {
    return this.use.start();
  }

  close(): Promise<void> {
    return this.use.close();
  }

  /**
   * Every (re)connection: of the client, and on a Cluster of each node's connection too (a
   * failover to a replica shows as a new node, not as the cluster's own `ready`).
   */
  onReconnect(handler: () => void): void {
    this.redis.on('ready', handler);
    if (isCluster(this.redis)) this.redis.on('+node', (node: Redis) => node.on('ready', handler));
  }

  async get(accessHash: string): Promise<TierLookup> {
    const reply = (await this.breaker.run(() => this.scripts.getWithTtl(this.sessionKey(accessHash)))) as [string, number] | null;
    if (reply === null) return null;
    const [text, pttl] = reply;
    const ttlMs = pttl > 0 ? pttl : 0;
    if (text === TOMBSTONE) return { entry: REVOKED, ttlMs };
    if (text.startsWith(FLOOR)) return null;
    const decoded = decodeCachedSession(text);
    return decoded === null ? null : { entry: decoded.session, epoch: decoded.epoch, ttlMs };
  }

  async set(accessHash: string, session: CachedSession, ttlSeconds: number, epoch: string, notAfter: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const userKey = this.userKey(session.userId);
    const value = encodeCachedSession(session, epoch);
    const deadline = Math.floor(notAfter);
    await this.breaker.run(async () => {
      // On a Cluster the watermark lives in another slot, and one hash tag for both would put
      // every session on one master: the fill there checks the mark and the deadline only.
      const stored = this.cluster
        ? await this.scripts.setUnlessRevokedInSlot(this.sessionKey(accessHash), value, ttl, deadline, epoch, session.version)
        : await this.scripts.setUnlessRevoked(this.sessionKey(accessHash), this.watermarkKey, value, ttl, deadline, epoch, session.version);
      if (stored === TOO_LATE) {
        this.lateFill.warn('A session cache fill reached Redis after its deadline and was not written (held in the network, or this instance’s clock runs behind Redis’s)');
      }
      if (stored !== 1) return;
      await this.redis.sadd(userKey, shortHash(accessHash));
      // Only ever lengthen the index's TTL, so it outlives every entry it lists.
      await this.redis.expire(userKey, ttl, 'GT');
      await this.redis.expire(userKey, ttl, 'NX');
    });
  }

  async markRevoked(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    await this.breaker.run(() =>
      Promise.all([
        ...accessHashes.map((hash) => this.redis.set(this.sessionKey(hash), TOMBSTONE, 'EX', this.tombstoneSeconds)),
        this.redis.srem(this.userKey(userId), ...accessHashes.map(shortHash)),
      ]),
    );
  }

  async forget(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    await this.breaker.run(() =>
      Promise.all([
        ...accessHashes.map((hash) => this.redis.del(this.sessionKey(hash))),
        this.redis.srem(this.userKey(userId), ...accessHashes.map(shortHash)),
      ]),
    );
  }

  async supersede(userId: string, sessions: readonly SupersededSession[]): Promise<void> {
    if (sessions.length === 0) return;
    await this.breaker.run(() =>
      Promise.all([
        ...sessions.map(({ accessHash, version }) => this.scripts.supersede(this.sessionKey(accessHash), Math.floor(version), this.tombstoneSeconds)),
        this.redis.srem(this.userKey(userId), ...sessions.map(({ accessHash }) => shortHash(accessHash))),
      ]),
    );
  }

  async deleteUser(userId: string): Promise<void> {
    const userKey = this.userKey(userId);
    await this.breaker.run(async () => {
      const members = await this.redis.smembers(userKey);
      await Promise.all(members.map((member) => this.redis.del(`${this.prefix}s:${member}`)));
      await this.redis.del(userKey);
    });
  }

  async watermark(): Promise<Watermark | null> {
    return parseWatermark(await this.breaker.run(() => this.redis.get(this.watermarkKey)));
  }

  async createWatermark(candidate: Watermark, marginMs: number): Promise<Watermark> {
    const key = this.watermarkKey;
    const text = await this.breaker.run(() => this.scripts.createWatermark(key, candidate.epoch, Math.floor(candidate.mark), marginMs));
    const holds = parseWatermark(text as string | null);
    if (!holds) throw new Error(`The session cache watermark ${key} holds something else than epoch:mark`);
    return holds;
  }

  async advanceWatermark(epoch: string, mark: number, marginMs: number): Promise<void> {
    await this.breaker.run(() => this.scripts.advanceWatermark(this.watermarkKey, epoch, Math.floor(mark), marginMs));
  }

  async lease(job: string, ms: number): Promise<boolean> {
    const taken = await this.breaker.run(() => this.redis.set(`${this.prefix}${job}`, '1', 'PX', Math.max(1, Math.floor(ms)), 'NX'));
    return taken === 'OK';
  }

  /** Every key under the prefix (sessions, marks, indexes, rate limits, presence), sampled; not through the breaker (a slow sample must not open it). */
  sampleKeyMemory(): Promise<KeyMemorySample> {
    return this.memory.sample();
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
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
