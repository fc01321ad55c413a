import { randomUUID } from 'node:crypto';
import { MemoryHousekeepingLock } from './adapters/memory/memory-housekeeping.lock.js';
import { HOUSEKEEPING_JOBS } from './ports/housekeeping-lock.js';
import { MemorySessionCache } from './adapters/memory/memory-session.cache.js';
import { MemorySessionStore } from './adapters/memory/memory-session.store.js';
import { Clock } from './ports/clock.js';
import { REVOKED } from './ports/session-cache.js';
import { resolveSessionOptions } from './resolve-options.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import { SessionEvent } from './session.events.js';
import { IDLE_SWEEP_MARGIN_MS, SessionSweepService } from './session-sweep.service.js';

const T0 = Date.UTC(2030, 0, 1);
const IDLE = 3600;

class FakeClock extends Clock {
  ms = T0;
  now(): number {
    return this.ms;
  }
}

function setup(lock = new MemoryHousekeepingLock()) {
  const options = resolveSessionOptions({
    secret: 'sweep-secret-sweep-secret-sweep-secret-0',
    credentials: { verify: async () => null, findById: async () => null },
    idleTtl: IDLE,
  });
  const store = new MemorySessionStore();
  const cache = new MemorySessionCache(100);
  const clock = new FakeClock();
  const events: SessionEvent[] = [];
  const publisher = new SessionEventPublisher();
  vi.spyOn(publisher, 'publish').mockImplementation((e) => void events.push(e));
  const sweep = new SessionSweepService(options, store, cache, lock, clock, publisher);
  return { store, cache, clock, events, sweep };
}

/** A session opened at T0 + `created` s, ending at T0 + `expires` s, last active at T0 + `activity` s. */
function open(store: MemorySessionStore, t: { created: number; expires: number; activity?: number }) {
  const at = (s: number) => new Date(T0 + s * 1000);
  return store.insert({
    id: randomUUID(),
    userId: 'user-1',
    roles: [],
    accessHash: randomUUID(),
    refreshHash: randomUUID(),
    accessExpiresAt: at(t.expires),
    expiresAt: at(t.expires),
    absoluteExpiresAt: at(t.expires + 86_400),
    createdAt: at(t.created),
    authenticatedAt: at(t.created),
    lastActivityAt: at(t.activity ?? t.created),
    ipAddress: '192.0.2.1',
    userAgent: 'Sweep/1',
    deviceName: null,
    deviceType: null,
    deviceId: null,
    data: null,
  }).then((inserted) => inserted.session);
}

describe('SessionSweepService', () => {
  it('records expired sessions once: an `expired` event at the moment they ended and a revocation mark in the cache', async () => {
    const { store, cache, clock, events, sweep } = setup();
    const expired = await open(store, { created: 0, expires: 100, activity: 50 });
    const live = await open(store, { created: 0, expires: 10_000, activity: 190 });
    clock.ms = T0 + 200_000;
    const result = await sweep.runOnce();
    expect(result).toEqual({ expired: 1, active: 1, skipped: false });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'expired', userId: 'user-1', sessionId: expired.id, detail: 'expired', ipAddress: '192.0.2.1' });
    expect(events[0].at).toEqual(new Date(T0 + 100_000));
    expect(await cache.get(expired.accessHash)).toBe(REVOKED);
    expect((await store.findById(live.id))!.endedAt).toBeNull();
    expect((await sweep.runOnce()).expired).toBe(0);
  });

  it('waits a margin past the idle end before recording an idle session (activity is written behind)', async () => {
    const { store, clock, events, sweep } = setup();
    const idle = await open(store, { created: 0, expires: 100_000, activity: 0 });
    clock.ms = T0 + IDLE * 1000 + IDLE_SWEEP_MARGIN_MS - 1;
    expect((await sweep.runOnce()).expired).toBe(0);
    clock.ms = T0 + IDLE * 1000 + IDLE_SWEEP_MARGIN_MS;
    expect((await sweep.runOnce()).expired).toBe(1);
    expect(events[0]).toMatchObject({ sessionId: idle.id, detail: 'idle', at: new Date(T0 + IDLE * 1000) });
  });

  it('samples the live sessions for the peak', async () => {
    const { store, clock, sweep } = setup();
    await open(store, { created: 0, expires: 1000 });
    await open(store, { created: 0, expires: 1000 });
    clock.ms = T0 + 10_000;
    await sweep.runOnce();
    clock.ms = T0 + 2_000_000;
    await open(store, { created: 1999, expires: 5000 });
    await sweep.runOnce();
    expect(await store.peakConcurrency(new Date(T0))).toBe(2);
    expect(await store.peakConcurrency(new Date(T0 + 1_000_000))).toBe(1);
  });

  it('does nothing while another instance holds the lock', async () => {
    const lock = new MemoryHousekeepingLock();
    const { store, clock, events, sweep } = setup(lock);
    await open(store, { created: 0, expires: 1 });
    clock.ms = T0 + 10_000;
    let result: Awaited<ReturnType<typeof sweep.runOnce>> | undefined;
    await lock.runExclusive(HOUSEKEEPING_JOBS.sweep, async () => {
      result = await sweep.runOnce();
    });
    expect(result).toEqual({ expired: 0, active: null, skipped: true });
    expect(events).toEqual([]);
  });
});
