import type * as PromClient from 'prom-client';
import type { Counter, Registry } from 'prom-client';
import type { InvalidTokenReason } from '../errors/session.errors.js';
import type { ObservableSessionCache } from '../ports/cache-observation.js';
import { requiredPeer } from '../runtime/optional-peer.js';
import type { SessionEvent } from '../session.events.js';
import { registerCacheGauges } from './cache-gauges.js';

/** How a validation ended: `valid`, or why the token was refused. */
export type ValidationResult = 'valid' | InvalidTokenReason | 'error';
/** What the cache answered a validation: a session, a revocation mark, nothing, or a failure. */
export type CacheResult = 'hit' | 'revoked' | 'miss' | 'error';
/**
 * Which tier answered a validation's lookup: `memory` (this process, no I/O), `redis` (the shared
 * cache: Redis, or whatever backend a custom cache names), `store` (PostgreSQL, read after a miss).
 */
export type CacheTier = 'memory' | 'redis' | 'store' | (string & {});
/** How a refresh ended. `grace`: the token just rotated away came back within the grace window. */
export type RefreshResult = 'success' | 'grace' | InvalidTokenReason | 'error';

type Child = { inc(): void };

/** A counter that counts nowhere: what every series is with metrics off. */
const INERT_CHILD: Child = { inc: () => undefined };

/**
 * The module's Prometheus series. Label sets are bound once per value, so the request path
 * pays a map lookup and an add, not a label hash.
 *
 * - `session_validations_total{result}`
 * - `session_cache_requests_total{result, tier}`: tier `memory`, `redis` (cache lookups: their sum
 *   over both is the figure this series had before it had a tier) and `store` (the reads of the
 *   store after a miss: `hit` found, `miss` not found, `error`)
 * - `session_logins_total{result}`: success, failure, throttled
 * - `session_refreshes_total{result}`
 * - `session_revocations_total{reason}`: logout, revoked, revoked_by_admin, revoked_all, evicted,
 *   reuse_detected, hijack_suspected, password_changed, not_before
 * - `session_events_total{type}`: every lifecycle event, expirations included
 * - `sessions_active`: live sessions, counted when scraped (cached for a few seconds)
 * - `session_sockets_open`: sockets authenticated by a session open on this instance
 * - `session_online_users`: users with a socket open on any instance (from the socket presence)
 * - with a shared cache (Redis), its gauges: see `registerCacheGauges`
 */
export class SessionMetrics {
  private readonly validations?: Counter<'result'>;
  private readonly cacheRequests?: Counter<'result' | 'tier'>;
  private readonly cacheByTier = new Map<string, Map<string, Child>>();
  private readonly logins?: Counter<'result'>;
  private readonly refreshes?: Counter<'result'>;
  private readonly revocations?: Counter<'reason'>;
  private readonly events?: Counter<'type'>;
  private readonly legacyUpgrades?: Counter<'source'>;
  private readonly bound = new Map<Counter<string>, Map<string, Child>>();
  private activeSource?: () => Promise<number>;
  private socketSources?: { open: () => number; onlineUsers: () => Promise<number> };
  private readonly registry: Registry | null;
  private readonly promClient?: typeof PromClient;

  /**
   * @param registry where the series live (prom-client, an optional peer, is loaded only then);
   *   `null` turns metrics off: every count is a no-op and nothing is loaded
   */
  constructor(registry: Registry | null) {
    this.registry = registry;
    if (!registry) return;
    this.promClient = requiredPeer<typeof PromClient>('prom-client', 'Metrics (the "metrics" option)');
    const { Counter, Gauge } = this.promClient;
    const counter = <L extends string>(name: string, help: string, label: L) =>
      reuse<Counter<L>>(registry, name) ?? new Counter({ name, help, labelNames: [label], registers: [registry] });
    this.validations = counter('session_validations_total', 'Access-token validations, by result', 'result');
    this.cacheRequests =
      reuse<Counter<'result' | 'tier'>>(registry, 'session_cache_requests_total') ??
      new Counter({
        name: 'session_cache_requests_total',
        help: 'Session lookups during validation, by result and by the tier that answered (memory, redis; store: the reads after a miss)',
        labelNames: ['result', 'tier'],
        registers: [registry],
      });
    this.logins = counter('session_logins_total', 'Login attempts, by result', 'result');
    this.refreshes = counter('session_refreshes_total', 'Refresh-token rotations, by result', 'result');
    this.revocations = counter('session_revocations_total', 'Sessions revoked, by reason', 'reason');
    this.events = counter('session_events_total', 'Session lifecycle events, by type', 'type');
    this.legacyUpgrades = counter('session_legacy_upgrades_total', 'Legacy sessions upgraded to sessions of this module, by source', 'source');
    const activeSource = () => this.activeSource;
    if (!reuse(registry, 'sessions_active')) {
      new Gauge({
        name: 'sessions_active',
        help: 'Live sessions (counted in the store when scraped, at most every few seconds)',
        registers: [registry],
        async collect() {
          const source = activeSource();
          // A store that cannot count must not take the whole scrape down with it (every other
          // series is what an operator needs most then): NaN until it counts again.
          if (source) this.set(await source().catch(() => Number.NaN));
        },
      });
    }
    this.socketGauges(registry, Gauge);
  }

  /** Where `session_sockets_open` and `session_online_users` come from (set by `SessionSockets`). */
  countSocketsWith(open: () => number, onlineUsers: () => Promise<number>): void {
    this.socketSources = { open, onlineUsers };
  }

  /** Registers the gauges of a cache with a shared tier (breaker, sync, reconciliation lag, Redis memory); called once, by the module. */
  observeCache(cache: ObservableSessionCache): void {
    if (this.registry && this.promClient) registerCacheGauges(this.registry, this.promClient.Gauge, cache);
  }

  /** Where `sessions_active` comes from (set by the statistics service). */
  countActiveWith(source: () => Promise<number>): void {
    this.activeSource = source;
  }

  private socketGauges(registry: Registry, Gauge: typeof PromClient.Gauge): void {
    const sources = () => this.socketSources;
    if (!reuse(registry, 'session_sockets_open')) {
      new Gauge({
        name: 'session_sockets_open',
        help: 'Sockets authenticated by a session and open on this instance',
        registers: [registry],
        collect() {
          const source = sources();
          if (source) this.set(source.open());
        },
      });
    }
    if (!reuse(registry, 'session_online_users')) {
      new Gauge({
        name: 'session_online_users',
        help: 'Users with at least one socket open, on any instance',
        registers: [registry],
        async collect() {
          const source = sources();
          if (source) this.set(await source.onlineUsers().catch(() => Number.NaN));
        },
      });
    }
  }

  validation(result: ValidationResult): void {
    this.child(this.validations, result).inc();
  }

  /** A lookup of a validation, answered by `tier`. Two map lookups and an add, as every count here. */
  cache(result: CacheResult, tier: CacheTier): void {
    if (!this.cacheRequests) return;
    let children = this.cacheByTier.get(tier);
    if (!children) this.cacheByTier.set(tier, (children = new Map()));
    let child = children.get(result);
    if (!child) children.set(result, (child = this.cacheRequests.labels(result, tier)));
    child.inc();
  }

  refresh(result: RefreshResult): void {
    this.child(this.refreshes, result).inc();
  }

  /** A legacy session (of `source`) became a session of this module. */
  legacyUpgrade(source: string): void {
    this.child(this.legacyUpgrades, source).inc();
  }

  /** Counts what a lifecycle event says about logins, refreshes and revocations. */
  event(event: SessionEvent): void {
    this.child(this.events, event.type).inc();
    switch (event.type) {
      case 'login':
        return this.child(this.logins, 'success').inc();
      case 'login_failed':
        return this.child(this.logins, 'failure').inc();
      case 'throttled':
        return this.child(this.logins, 'throttled').inc();
      case 'refresh':
        return this.refresh('success');
      case 'logout':
      case 'evicted':
      case 'replaced':
      case 'reuse_detected':
      case 'hijack_suspected':
        return this.child(this.revocations, event.type).inc();
      case 'revoked':
        return this.child(this.revocations, event.detail ?? 'revoked').inc();
    }
  }

  private child(counter: Counter<string> | undefined, value: string): Child {
    if (!counter) return INERT_CHILD;
    let children = this.bound.get(counter);
    if (!children) this.bound.set(counter, (children = new Map()));
    let child = children.get(value);
    if (!child) children.set(value, (child = counter.labels(value)));
    return child;
  }
}

/** A series another instance of the module already registered there (apps sharing a registry). */
function reuse<T>(registry: Registry, name: string): T | undefined {
  return (registry.getSingleMetric(name) as T | undefined) ?? undefined;
}
