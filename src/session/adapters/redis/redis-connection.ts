import type * as IORedis from 'ioredis';
import { Logger } from '@nestjs/common';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { requiredPeer } from '../../runtime/optional-peer.js';
import { ThrottledWarning } from '../../runtime/throttled-warning.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { isSentinelConfig, RedisSentinelConfig, sentinelClientOptions } from './redis-sentinel.js';
import { hangingSettingsWarning } from './request-path-settings.js';

/**
 * Where the module's Redis is: a URL (`redis://`, `rediss://`), ioredis options, a Sentinel group
 * (`{ sentinels: ['host:port', …], name: 'mymaster' }`, see `RedisSentinelConfig`),
 * `{ clusterNodes: ['host:port', …] }` for a Redis Cluster, or a client the app made and owns
 * (`Redis` or `Cluster`: the module then never closes it, and warns at start when its settings
 * would make requests wait on Redis — see `hangingSettings`).
 */
export type RedisConnectionConfig = string | RedisOptions | RedisSentinelConfig | Redis | Cluster | { clusterNodes: string[] };

/**
 * Client settings for the request path: a command fails fast instead of queueing while Redis
 * is away (ioredis would otherwise hold it, by default for about a minute), and reconnection
 * keeps trying in the background.
 */
export const REQUEST_PATH_REDIS_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 100,
  connectTimeout: 2000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  lazyConnect: false,
};

/** True for an ioredis client (`Redis` or `Cluster`), told apart without loading ioredis. */
export function isRedisClient(value: unknown): value is Redis | Cluster {
  const v = value as Partial<Redis> | null;
  return typeof v === 'object' && v !== null && typeof v.sendCommand === 'function' && typeof v.duplicate === 'function';
}

/** True for an ioredis `Cluster` (ioredis marks both kinds with `isCluster`). */
export const isCluster = (client: Redis | Cluster): client is Cluster => (client as { isCluster?: boolean }).isCluster === true;

/**
 * The Redis the module's adapters share: one client, whether the module made it (and so closes
 * it) or the app handed it over, and the circuit breaker every adapter on it goes through. Each
 * adapter that uses it `retain`s it and `release`s it on close; the last release closes it.
 */
export class SessionRedisConnection {
  readonly client: Redis | Cluster;
  readonly owned: boolean;
  readonly breaker: CircuitBreaker;
  private users = 0;
  private readiness?: Promise<void>;

  constructor(config: RedisConnectionConfig) {
    this.client = isRedisClient(config) ? config : clientFor(config);
    this.owned = this.client !== config;
    // While open, a background PING decides when Redis is back: no request pays for a trial.
    this.breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 500, probe: () => this.client.ping() });
    // The module works without Redis and reconnects by itself: a connection error is a warning.
    const warning = new ThrottledWarning('SessionRedis');
    this.client.on('error', (error: Error) => warning.warn(`Redis: ${error.message}`));
    const hanging = hangingSettingsWarning(this.client, !this.owned);
    if (hanging) new Logger('SessionRedis').warn(hanging);
  }

  /** One more adapter uses it: waits (once, at most 3 s) for the client to be ready. */
  async retain(): Promise<void> {
    this.users += 1;
    this.readiness ??= this.ready();
    await this.readiness;
  }

  /** One adapter is done with it; the last one stops the breaker and closes the client the module made. */
  async release(): Promise<void> {
    this.users -= 1;
    if (this.users > 0) return;
    this.breaker.stop();
    if (this.owned) await this.client.quit().catch(() => this.client.disconnect());
  }

  /** Resolves once the client is ready, or after `timeoutMs` (the module works without Redis meanwhile). */
  private ready(timeoutMs = 3000): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.client.status === 'ready') return resolve();
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** A second connection for pub/sub (a subscribed connection can do nothing else). */
  subscriber(): Redis | Cluster {
    const subscriber = this.duplicateForPubSub();
    // Connection errors show as an unhealthy channel (no heartbeat); the main client logs them.
    subscriber.on('error', () => undefined);
    return subscriber;
  }

  private duplicateForPubSub(): Redis | Cluster {
    // Subscribing waits for the connection (offline queue), however long Redis is away, and is
    // never timed out: a subscribe given up on would never be renewed by ioredis's re-subscription.
    if (isCluster(this.client)) {
      return this.client.duplicate(undefined, {
        enableOfflineQueue: true,
        // One subscriber per master, for sharded pub/sub (see RedisInvalidationChannel).
        shardedSubscribers: true,
        redisOptions: { ...clusterNodeOptions(), commandTimeout: undefined, maxRetriesPerRequest: null },
      });
    }
    return this.client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined, maxRetriesPerRequest: null });
  }
}

function clientFor(config: Exclude<RedisConnectionConfig, Redis | Cluster>): Redis | Cluster {
  const ioredis = requiredPeer<typeof IORedis>('ioredis', 'The Redis adapters');
  if (typeof config === 'string') return new ioredis.Redis(config, REQUEST_PATH_REDIS_OPTIONS);
  if ('clusterNodes' in config) {
    const nodes = config.clusterNodes.map((node) => {
      const [host, port] = node.trim().split(':');
      return { host, port: Number(port) };
    });
    return new ioredis.Cluster(nodes, {
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2000),
      redisOptions: clusterNodeOptions(),
    });
  }
  if (isSentinelConfig(config)) return new ioredis.Redis(sentinelClientOptions(config, REQUEST_PATH_REDIS_OPTIONS));
  return new ioredis.Redis({ ...REQUEST_PATH_REDIS_OPTIONS, ...config });
}

/** Per-node options of a cluster client (the cluster itself owns the queue and the retries). */
function clusterNodeOptions() {
  const { enableOfflineQueue: _queue, retryStrategy: _retry, ...rest } = REQUEST_PATH_REDIS_OPTIONS;
  return rest;
}

/** An adapter's use of the shared connection: taken at `start`, given back at `close`, once each. */
export class ConnectionUse {
  private held = false;

  constructor(readonly connection: SessionRedisConnection) {}

  async start(): Promise<void> {
    if (this.held) return;
    this.held = true;
    await this.connection.retain();
  }

  async close(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await this.connection.release();
  }
}
