import { Registry } from 'prom-client';
import { MemorySessionCache } from './adapters/memory/memory-session.cache.js';
import { MemorySessionStore } from './adapters/memory/memory-session.store.js';
import { SessionMetrics } from './metrics/session-metrics.js';
import { SystemClock } from './ports/clock.js';
import type { CredentialsVerifier } from './ports/credentials-verifier.js';
import type { CacheLookup } from './ports/session-cache.js';
import { resolveSessionOptions } from './resolve-options.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import { SessionService } from './session.service.js';

const credentials: CredentialsVerifier = { verify: async () => null, findById: async () => null };

/** A cache that is a shared one (`redis`), with no in-process tier: every answer is a round trip. */
class RemoteOnlyCache extends MemorySessionCache {
  override get backend(): string {
    return 'redis';
  }

  override peek(): undefined {
    return undefined;
  }

  override async get(accessHash: string): Promise<CacheLookup> {
    return super.get(accessHash);
  }
}

async function setup(cache: MemorySessionCache) {
  const registry = new Registry();
  const options = resolveSessionOptions({ secret: 'unit-test-secret-0123456789-abcdefghij', credentials, metrics: registry });
  const metrics = new SessionMetrics(registry);
  const service = new SessionService(new MemorySessionStore(), cache, new SystemClock(), options, new SessionEventPublisher(), metrics);
  const { tokens } = await service.create({ userId: 'u1', roles: ['user'] });
  const count = async (tier: string, result: string) => {
    const metric = await registry.getSingleMetric('session_cache_requests_total')!.get();
    return metric.values.find((v) => v.labels.tier === tier && v.labels.result === result)?.value ?? 0;
  };
  return { service, accessToken: tokens.accessToken, count };
}

describe('session_cache_requests_total{tier}', () => {
  it('counts a miss in the cache and the store read after it (tier store), then the in-process hit (tier memory)', async () => {
    const { service, accessToken, count } = await setup(new MemorySessionCache(100));
    await service.validate(accessToken);
    expect(await count('memory', 'miss')).toBe(1); // the in-process cache's `get`
    expect(await count('store', 'hit')).toBe(1);
    await service.validate(accessToken);
    await service.validate(accessToken);
    expect(await count('memory', 'hit')).toBe(2);
    expect(await count('store', 'hit')).toBe(1);
    expect(await count('redis', 'hit')).toBe(0);
  });

  it('labels what a shared cache answers `redis`, and a token the store does not know a store miss', async () => {
    const { service, accessToken, count } = await setup(new RemoteOnlyCache(100));
    await service.validate(accessToken);
    await service.validate(accessToken);
    expect(await count('redis', 'miss')).toBe(1);
    expect(await count('store', 'hit')).toBe(1);
    expect(await count('redis', 'hit')).toBe(1);
    expect(await count('memory', 'hit')).toBe(0);
    // Signed with the same secret, by another app: this store does not know it.
    const stranger = (await setup(new MemorySessionCache(100))).accessToken;
    await expect(service.validate(stranger)).rejects.toThrow();
    expect(await count('store', 'miss')).toBe(1);
  });

  it('counts a store that fails as a store error', async () => {
    const { service, accessToken, count } = await setup(new MemorySessionCache(100));
    const store = (service as unknown as { store: MemorySessionStore }).store;
    vi.spyOn(store, 'findByAccessHash').mockRejectedValue(new Error('PostgreSQL down'));
    await expect(service.validate(accessToken)).rejects.toThrow('PostgreSQL down');
    expect(await count('store', 'error')).toBe(1);
  });
});
