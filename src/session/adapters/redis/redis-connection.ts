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
  commandTimeout: 250,
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
  const breaker = new CircuitBreaker();
  if (config instanceof Redis) return { client: config, owned: false, breaker };
  const client =
    typeof config === 'string'
      ? new Redis(config, REQUEST_PATH_REDIS_OPTIONS)
      : new Redis({ ...REQUEST_PATH_REDIS_OPTIONS, ...config });
  return { client, owned: true, breaker };
}
