import fc from 'fast-check';
import { MemorySessionCache } from './adapters/memory/memory-session.cache.js';
import { MemorySessionStore } from './adapters/memory/memory-session.store.js';
import { Clock } from './ports/clock.js';
import { SessionStore } from './ports/session-store.js';
import { resolveSessionOptions } from './resolve-options.js';
import { SessionService } from './session.service.js';

class FixedClock extends Clock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {
    super();
  }
  now(): number {
    return this.ms;
  }
}

/**
 * A store whose every operation starts only when the fast-check scheduler says so: each call is
 * atomic (as one SQL statement is), but the order in which concurrent calls run is explored.
 */
function scheduledStore(store: SessionStore, s: fc.Scheduler): SessionStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await s.schedule(Promise.resolve(), String(key));
        return value.apply(target, args);
      };
    },
  });
}

function setup(s: fc.Scheduler, refreshGrace: number) {
  const inner = new MemorySessionStore();
  const clock = new FixedClock();
  const options = resolveSessionOptions({
    secret: 'race-secret-race-secret-race-secret-race',
    credentials: { verify: async () => null, findById: async () => null },
    refreshGrace,
  });
  const service = new SessionService(scheduledStore(inner, s), new MemorySessionCache(100), clock, options);
  return { service, inner };
}

describe('refresh rotation under concurrency (every interleaving fast-check finds)', () => {
  it('concurrent refreshes of one token within the grace window all get the same single successor; nobody is logged out', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 3 }), async (s, refreshes, validations) => {
        const { service, inner } = setup(s, 10);
        const created = service.create({ userId: 'u1', roles: [] });
        await s.waitFor(created);
        const { tokens, session } = await created;

        const racing = [
          ...Array.from({ length: refreshes }, () => service.refresh(tokens.refreshToken).then((r) => r.tokens)),
          ...Array.from({ length: validations }, () => service.validate(tokens.accessToken).then(() => null, () => null)),
        ];
        const outcomes = await s.waitFor(Promise.allSettled(racing));
        const issued = outcomes.slice(0, refreshes);
        expect(issued.every((o) => o.status === 'fulfilled')).toBe(true);
        const pairs = issued.map((o) => (o as PromiseFulfilledResult<{ accessToken: string; refreshToken: string }>).value);
        expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(1);
        expect(new Set(pairs.map((p) => p.accessToken)).size).toBe(1);

        const stored = (await inner.findById(session.id))!;
        expect(stored.revokedAt).toBeNull();
        expect(stored.version).toBe(2); // exactly one rotation
        const validated = service.validate(pairs[0].accessToken);
        await s.waitFor(validated);
        expect((await validated).sessionId).toBe(session.id);
      }),
      { numRuns: 150 },
    );
  });

  it('with the grace window off, one concurrent refresh wins and the others are treated as reuse; never two successors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 4 }), async (s, refreshes) => {
        const { service, inner } = setup(s, 0);
        const created = service.create({ userId: 'u1', roles: [] });
        await s.waitFor(created);
        const { tokens, session } = await created;
        const outcomes = await s.waitFor(
          Promise.allSettled(Array.from({ length: refreshes }, () => service.refresh(tokens.refreshToken))),
        );
        const winners = outcomes.filter((o) => o.status === 'fulfilled');
        expect(winners.length).toBe(1);
        const stored = (await inner.findById(session.id))!;
        expect(stored.version).toBeGreaterThanOrEqual(2);
        expect(stored.revokedReason).toBe('reuse_detected');
      }),
      { numRuns: 100 },
    );
  });
});
