import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { MemoryAuditLog } from './adapters/memory/memory-audit.log.js';
import { MemoryHousekeepingLock } from './adapters/memory/memory-housekeeping.lock.js';
import { MemoryLoginFailureCounter } from './adapters/memory/memory-login-failure.counter.js';
import { MemorySessionCache } from './adapters/memory/memory-session.cache.js';
import { MemorySessionStore } from './adapters/memory/memory-session.store.js';
import { MemoryThrottlerStorage } from './adapters/memory/memory-throttler.storage.js';
import { MemorySocketPresence } from './adapters/memory/memory-socket.presence.js';
import type { AdapterLifecycle } from './ports/adapter-lifecycle.js';
import type { AuditLog } from './ports/audit-log.js';
import type { HousekeepingLock } from './ports/housekeeping-lock.js';
import type { LoginFailureCounter } from './ports/login-failure-counter.js';
import type { SessionCache } from './ports/session-cache.js';
import type { SessionStore } from './ports/session-store.js';
import type { SocketPresence } from './ports/socket-presence.js';
import { SESSION_MODULE_OPTIONS } from './session.module-definition.js';
import type { SessionAdapterOptions } from './session.options.js';

/** Sessions the default in-process cache holds at most. */
const MEMORY_CACHE_ENTRIES = 10_000;

/**
 * The adapter of every port: the one the app passed in its options, else the in-memory default,
 * picked here and nowhere else. Starts them with the app and closes them on shutdown (adapters are
 * values, not providers, so Nest would not).
 */
@Injectable()
export class SessionAdapters implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('SessionModule');
  readonly store: SessionStore;
  readonly auditLog: AuditLog;
  readonly lock: HousekeepingLock;
  readonly cache: SessionCache;
  readonly rateLimitStorage: ThrottlerStorage;
  readonly loginFailures: LoginFailureCounter;
  readonly presence: SocketPresence;

  constructor(@Inject(SESSION_MODULE_OPTIONS) options: SessionAdapterOptions) {
    this.store = options.store ?? new MemorySessionStore();
    this.auditLog = options.auditLog ?? new MemoryAuditLog();
    this.lock = options.lock ?? new MemoryHousekeepingLock();
    this.cache = options.cache ?? new MemorySessionCache(MEMORY_CACHE_ENTRIES);
    this.rateLimitStorage = options.rateLimitStorage ?? new MemoryThrottlerStorage();
    this.loginFailures = options.loginFailures ?? new MemoryLoginFailureCounter();
    this.presence = options.presence ?? new MemorySocketPresence();
  }

  /** Every adapter, once (an app may pass one object for several ports). */
  private all(): AdapterLifecycle[] {
    return [
      ...new Set<object>([this.store, this.auditLog, this.lock, this.cache, this.rateLimitStorage, this.loginFailures, this.presence]),
    ] as AdapterLifecycle[];
  }

  async onModuleInit(): Promise<void> {
    if (process.env.NODE_ENV === 'production' && this.store instanceof MemorySessionStore) {
      this.logger.warn(
        'Sessions are kept in memory (NODE_ENV=production): they are lost on restart and not shared between instances. ' +
          'Pass a store, e.g. typeOrmSessionAdapters(dataSource).',
      );
    }
    for (const adapter of this.all()) await adapter.start?.({ store: this.store });
  }

  /** Stops the adapters' background jobs while the connections they use are still open. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.each('Stopping', (adapter) => adapter.stop?.());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.each('Closing', (adapter) => adapter.close?.());
  }

  private async each(what: string, hook: (adapter: AdapterLifecycle) => void | Promise<void>): Promise<void> {
    for (const adapter of this.all()) {
      try {
        await hook(adapter);
      } catch (error) {
        this.logger.warn(`${what} ${adapter.constructor.name} failed: ${(error as Error).message}`);
      }
    }
  }

  /** One line per port: which adapter serves it. */
  describe(): string {
    const name = (adapter: object) => adapter.constructor.name;
    return (
      `store ${name(this.store)}, cache ${name(this.cache)} (${this.cache.backend}), audit log ${name(this.auditLog)}, ` +
      `lock ${name(this.lock)}, rate limits ${name(this.rateLimitStorage)}, failed logins ${name(this.loginFailures)}, ` +
      `socket presence ${name(this.presence)}`
    );
  }
}
