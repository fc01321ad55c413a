import { MemorySessionCache } from './adapters/memory/memory-session.cache.js';
import { MemorySessionStore } from './adapters/memory/memory-session.store.js';
import { InvalidSessionChangeError } from './errors/session.errors.js';
import { Clock } from './ports/clock.js';
import type { SessionRecord } from './ports/session-record.js';
import { resolveSessionOptions } from './resolve-options.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import type { SessionEvent } from './session.events.js';
import { SessionService } from './session.service.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

class FixedClock extends Clock {
  now(): number {
    return T0;
  }
}

/** A store whose next `findByAccessHash` reads the row, then waits for `release()` before answering. */
class HeldReadStore extends MemorySessionStore {
  private held?: { read: () => void; release: Promise<void> };

  /** The next read waits; resolves once it has read the row, with the function that lets it answer. */
  holdNextRead(): Promise<() => void> {
    return new Promise((readDone) => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      this.held = { read: () => readDone(release), release: released };
    });
  }

  override async findByAccessHash(accessHash: string): Promise<SessionRecord | null> {
    const record = await super.findByAccessHash(accessHash);
    const held = this.held;
    this.held = undefined;
    if (held) {
      held.read();
      await held.release;
    }
    return record;
  }
}

function setup() {
  const store = new HeldReadStore();
  const cache = new MemorySessionCache(1000);
  const seen: SessionEvent[] = [];
  const events = new SessionEventPublisher();
  events.emitTo({ emit: (_name: string, event: unknown) => seen.push(event as SessionEvent) });
  const options = resolveSessionOptions({
    secret: 'unit-test-secret-0123456789-abcdefghij',
    credentials: { verify: async () => null, findById: async () => null },
  });
  const service = new SessionService(store, cache, new FixedClock(), options, events);
  const login = (userId: string, roles: string[]) => service.create({ userId, roles });
  return { store, cache, service, login, seen };
}

describe('SessionService.changeLiveSessions (live role changes)', () => {
  it("changes every live session of the user: the next validation, cached before, carries the new roles; another user's stays", async () => {
    const { service, login, seen } = setup();
    const [a, b, other] = [await login('u1', ['admin', 'user']), await login('u1', ['admin', 'user']), await login('u2', ['admin'])];
    for (const s of [a, b, other]) await service.validate(s.tokens.accessToken); // cached

    const changed = await service.changeLiveSessions('u1', { roles: ['user'] }, 'admin-1');

    expect(changed.map((s) => s.id).sort()).toEqual([a.session.id, b.session.id].sort());
    expect((await service.validate(a.tokens.accessToken)).roles).toEqual(['user']);
    expect((await service.validate(b.tokens.accessToken)).roles).toEqual(['user']);
    expect((await service.validate(other.tokens.accessToken)).roles).toEqual(['admin']);
    expect(seen.filter((e) => e.type === 'roles_changed')).toEqual([
      expect.objectContaining({ userId: 'u1', sessionId: null, actorId: 'admin-1', detail: 'roles: user; sessions: 2' }),
    ]);
  });

  it('writes data and keeps roles when only data is given; no roles_changed event then', async () => {
    const { service, login, store, seen } = setup();
    const s = await login('u1', ['user']);
    await service.changeLiveSessions('u1', { data: { plan: 'pro' } });
    expect(await store.findById(s.session.id)).toMatchObject({ roles: ['user'], data: { plan: 'pro' } });
    expect(seen.some((e) => e.type === 'roles_changed')).toBe(false);
  });

  it('records the change even for a user with no live session', async () => {
    const { service, seen } = setup();
    expect(await service.changeLiveSessions('nobody', { roles: [] }, 'admin-1')).toEqual([]);
    expect(seen.find((e) => e.type === 'roles_changed')).toMatchObject({ userId: 'nobody', detail: 'roles: (none); sessions: 0' });
  });

  it('a validation that read the old row just before the change and fills the cache after it does not bring the old roles back', async () => {
    const { service, login, store } = setup();
    const s = await login('u1', ['admin']);
    const readDone = store.holdNextRead();
    const racing = service.validate(s.tokens.accessToken); // a cache miss: reads the store
    const release = await readDone; // it has read the row with role admin
    await service.changeLiveSessions('u1', { roles: ['user'] });
    release(); // now it fills the cache with what it read
    expect((await racing).roles).toEqual(['admin']); // that request began before the change
    expect((await service.validate(s.tokens.accessToken)).roles).toEqual(['user']);
  });

  it.each([
    [{ roles: ['ad min'] }],
    [{ roles: ['a,b'] }],
    [{ roles: ['x|y'] }],
    [{ roles: [''] }],
    [{ roles: ['r'.repeat(65)] }],
    [{ roles: Array.from({ length: 33 }, (_, i) => `r${i}`) }],
    [{ roles: [42] as unknown as string[] }],
    [{ roles: 'admin' as unknown as string[] }],
    [{ data: [1] as unknown as Record<string, unknown> }],
    [{ data: 'x' as unknown as Record<string, unknown> }],
  ])('refuses %j and changes nothing', async (change) => {
    const { service, login, store } = setup();
    const s = await login('u1', ['user']);
    await expect(service.changeLiveSessions('u1', change)).rejects.toBeInstanceOf(InvalidSessionChangeError);
    expect(await store.findById(s.session.id)).toMatchObject({ roles: ['user'], version: 1 });
  });
});
