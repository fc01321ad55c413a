import { Inject, Injectable } from '@nestjs/common';
import { SessionCache } from './ports/session-cache.js';
import { SessionStore } from './ports/session-store.js';
import { SESSION_REDIS } from './session.constants.js';
import type { OwnedRedis } from './adapters/redis/redis-connection.js';

/** The state of one backend, as a health check reports it. */
export interface BackendHealth {
  status: 'up' | 'down';
  /** What serves it: `redis` or `memory` for the cache, `database` for the store. */
  backend: 'redis' | 'memory' | 'database';
}

/**
 * The module's backends for the app's health check (`@nestjs/terminus` or anything else). The
 * store (PostgreSQL) is what the service cannot work without; the cache (Redis) only makes it
 * faster, so a health endpoint should report it without failing on it.
 */
@Injectable()
export class SessionHealth {
  constructor(
    private readonly cache: SessionCache,
    private readonly store: SessionStore,
    @Inject(SESSION_REDIS) private readonly redis: OwnedRedis | null,
  ) {}

  /** Redis answers a PING (within the client's command timeout); always up without Redis. */
  async cacheHealth(): Promise<BackendHealth> {
    const backend = this.redis ? 'redis' : 'memory';
    return { status: (await this.cache.ping()) ? 'up' : 'down', backend };
  }

  /** The store answers `SELECT 1`. */
  async storeHealth(): Promise<BackendHealth> {
    return { status: (await this.store.ping()) ? 'up' : 'down', backend: 'database' };
  }
}
