import { CircuitOpenError } from '../../src/session/adapters/redis/circuit-breaker.js';
import { breakerFor, HostNetwork, ModelChannel, ModelTier, RedisLink, RedisServer } from './redis-model.js';
import { Scheduler } from './scheduler.js';
import { useSimulatedTime } from './simulated-time.js';

/** The faults of the Redis model, each as the real client and server would show it. */

useSimulatedTime();

const session = (userId = 'u1') => ({
  id: '00000000-0000-4000-8000-000000000001',
  userId,
  roles: ['user'],
  accessExpiresAt: Date.now() + 900_000,
  expiresAt: Date.now() + 86_400_000,
  lastActivityAt: Date.now(),
  authenticatedAt: Date.now(),
  createdAt: Date.now(),
  version: 1,
  uaFingerprint: '',
  network: '',
});

function world() {
  vi.clearAllTimers();
  vi.setSystemTime(Date.UTC(2030, 0, 1));
  const redis = new RedisServer();
  const host = new HostNetwork();
  const link = new RedisLink(redis, host, new Scheduler(1, { commandMs: 0, messageMs: 0, queryMs: 0 }));
  const breaker = breakerFor(link);
  return { redis, host, link, breaker, tier: new ModelTier(link, breaker) };
}

const settle = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: Error) => error.message);

describe('Redis model', () => {
  it('a cut that holds packets: the command times out at 100 ms, and still runs when the cut heals', async () => {
    const { redis, host, link } = world();
    host.cut('hold');
    const write = settle(link.command((db) => db.set('k', 'late')));
    await vi.advanceTimersByTimeAsync(100);
    expect(await write).toBe('Command timed out');
    expect(redis.get('k')).toBeNull();
    host.heal();
    expect(redis.get('k')).toBe('late');
  });

  it('a cut that loses packets: the command never runs, and the connection is reset on heal', async () => {
    const { redis, host, link } = world();
    host.cut('drop');
    const write = settle(link.command((db) => db.set('k', 'lost')));
    await vi.advanceTimersByTimeAsync(100);
    expect(await write).toBe('Command timed out');
    host.heal();
    expect(redis.get('k')).toBeNull();
    expect(link.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(2000);
    expect(link.state).toBe('ready');
  });

  it('the breaker opens after two failures (the tier is unavailable) and its probe closes it once Redis answers', async () => {
    const { host, tier } = world();
    host.cut('drop');
    for (let i = 0; i < 2; i++) {
      const read = settle(tier.get('hash'));
      await vi.advanceTimersByTimeAsync(100);
      expect(await read).toBe('Command timed out');
    }
    expect(tier.available).toBe(false);
    await expect(tier.get('hash')).rejects.toBeInstanceOf(CircuitOpenError);
    host.heal();
    await vi.advanceTimersByTimeAsync(2500);
    expect(tier.available).toBe(true);
  });

  it('the channel is unhealthy within a second of a cut, and healthy again soon after it heals', async () => {
    const { host, link } = world();
    const channel = new ModelChannel(link, 'i0');
    await channel.start();
    await vi.advanceTimersByTimeAsync(300);
    expect(channel.healthy).toBe(true);
    host.cut('hold');
    await vi.advanceTimersByTimeAsync(1000);
    expect(channel.healthy).toBe(false);
    host.heal();
    await vi.advanceTimersByTimeAsync(250);
    expect(channel.healthy).toBe(true);
    channel.close();
  });

  it('a tombstone wins over a later fill, as SET_UNLESS_REVOKED does', async () => {
    const { tier } = world();
    await tier.markRevoked('u1', ['hash']);
    await tier.set('hash', session(), 60);
    expect((await tier.get('hash'))?.entry).toBe('revoked');
  });

  it('a restore from a snapshot brings back what it held, with its absolute expiries', async () => {
    const { redis, tier } = world();
    await tier.set('short', session(), 5);
    await tier.set('long', session(), 60);
    redis.snapshot();
    await tier.markRevoked('u1', ['long']);
    await vi.advanceTimersByTimeAsync(10_000);
    redis.crash();
    redis.boot(redis.snapshots[0]);
    await vi.advanceTimersByTimeAsync(2000); // the client reconnects
    expect(await tier.get('short')).toBeNull();
    expect((await tier.get('long'))?.entry).toMatchObject({ userId: 'u1' });
  });

  it('a frozen Redis keeps the commands in its sockets and runs them, in order, when it thaws', async () => {
    const { redis, link } = world();
    redis.freeze();
    const first = settle(link.command((db) => db.set('k', 'first')));
    const second = settle(link.command((db) => db.set('k', 'second')));
    await vi.advanceTimersByTimeAsync(100);
    expect([await first, await second]).toEqual(['Command timed out', 'Command timed out']);
    redis.thaw();
    expect(redis.get('k')).toBe('second');
  });

  it('while Redis is down a command fails at once (no offline queue)', async () => {
    const { redis, link } = world();
    redis.crash();
    expect(await settle(link.command((db) => db.get('k')))).toBe("Stream isn't writeable and enableOfflineQueue options is false");
  });
});
