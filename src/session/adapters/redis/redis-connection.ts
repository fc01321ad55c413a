import { Redis, RedisOptions } from 'ioredis';
import { CircuitBreaker } from './circuit-breaker';

/**
 * Client settings for the request path: a command fails fast instead of queueing while Redis
 * is away (ioredis would otherwise hold it, by default for about a minute), and reconnection
 * keeps trying in the background.
 */
export const REQUEST_PATH_REDIS_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 150,
  connectTimeout: 2000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  lazyConnect: false,
};

/**
 * The module's Redis: the client, whether the module made it (and so must close it) or the app
 * handed it over, and the circuit breaker every Redis adapter of the module shares.
 */
export interface OwnedRedis {
  client: Redis;
  owned: boolean;
  breaker: CircuitBreaker;
}

export function connectRedis(config: string | RedisOptions | Redis): OwnedRedis {
  const client =
    config instanceof Redis
      ? config
      : typeof config === 'string'
        ? new Redis(config, REQUEST_PATH_REDIS_OPTIONS)
        : new Redis({ ...REQUEST_PATH_REDIS_OPTIONS, ...config });
  // While open, a background PING decides when Redis is back: no request pays for a trial.
  const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 500, probe: () => client.ping() });
  return { client, owned: !(config instanceof Redis), breaker };
}
