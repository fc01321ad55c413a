import { Injectable } from '@nestjs/common';
import { SessionCache } from './ports/session-cache.js';
import { SessionStore } from './ports/session-store.js';

/** The state of one backend, as a health check reports it. */
export interface BackendHealth {
  status: 'up' | 'down';
  /** What serves it: the cache adapter's `backend` (`redis`, `memory`, …), `database` for the store. */
  backend: string;
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
  ) {}

  /** The cache answers its `ping` (Redis: a PING within the command timeout; memory: always). */
  async cacheHealth(): Promise<BackendHealth> {
    return { status: (await this.cache.ping()) ? 'up' : 'down', backend: this.cache.backend };
  }

  /** The store answers its `ping` (`SELECT 1`). */
  async storeHealth(): Promise<BackendHealth> {
    return { status: (await this.store.ping()) ? 'up' : 'down', backend: 'database' };
  }
}
