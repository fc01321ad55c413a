import { Cluster, Redis, RedisOptions } from 'ioredis';
import type { RedisConfig } from '../../session.options.js';
import { CircuitBreaker } from './circuit-breaker.js';

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

/**
 * The module's Redis: the client, whether the module made it (and so must close it) or the app
 * handed it over, and the circuit breaker every Redis adapter of the module shares.
 */
export interface OwnedRedis {
  client: Redis | Cluster;
  owned: boolean;
  breaker: CircuitBreaker;
}

export function connectRedis(config: RedisConfig): OwnedRedis {
  const client = clientFor(config);
  // While open, a background PING decides when Redis is back: no request pays for a trial.
  const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 500, probe: () => client.ping() });
  return { client, owned: client !== config, breaker };
}

function clientFor(config: RedisConfig): Redis | Cluster {
  if (config instanceof Redis || config instanceof Cluster) return config;
  if (typeof config === 'string') return new Redis(config, REQUEST_PATH_REDIS_OPTIONS);
  if ('clusterNodes' in config) {
    const nodes = config.clusterNodes.map((node) => {
      const [host, port] = node.trim().split(':');
      return { host, port: Number(port) };
    });
    return new Cluster(nodes, {
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2000),
      redisOptions: clusterNodeOptions(),
    });
  }
  return new Redis({ ...REQUEST_PATH_REDIS_OPTIONS, ...config });
}

/** A second connection for pub/sub (a subscribed connection can do nothing else). */
export function subscriberFor(client: Redis | Cluster): Redis | Cluster {
  // Subscribing waits for the connection (offline queue) and is never timed out.
  if (client instanceof Cluster) {
    return client.duplicate(undefined, {
      enableOfflineQueue: true,
      // One subscriber per master, for sharded pub/sub (see RedisInvalidationChannel).
      shardedSubscribers: true,
      redisOptions: { ...clusterNodeOptions(), commandTimeout: undefined },
    });
  }
  return client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
}

/** Per-node options of a cluster client (the cluster itself owns the queue and the retries). */
function clusterNodeOptions() {
  const { enableOfflineQueue: _queue, retryStrategy: _retry, ...rest } = REQUEST_PATH_REDIS_OPTIONS;
  return rest;
}
