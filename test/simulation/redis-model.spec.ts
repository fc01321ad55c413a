import { CircuitOpenError } from '../../src/session/adapters/redis/circuit-breaker.js';
import { breakerFor, HostNetwork, ModelChannel, ModelTier, OOM_ERROR, RedisLink, RedisServer } from './redis-model.js';
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
  const scheduler = new Scheduler(1, { commandMs: 0, messageMs: 0, queryMs: 0 });
  const link = new RedisLink(redis, host, scheduler);
  const subscriber = new RedisLink(redis, host, scheduler);
  const breaker = breakerFor(link);
  return { redis, host, link, subscriber, breaker, tier: new ModelTier(link, breaker) };
}

/** A fill in epoch `e1`, sent just after its read (`SharedSessionCache` gives it 20 s to reach Redis). */
const fill = (tier: ModelTier, hash: string, ttlSeconds = 60, epoch = 'e1') => tier.set(hash, session(), ttlSeconds, epoch, Date.now() + 20_000);

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
    const { host, link, subscriber } = world();
    const channel = new ModelChannel(link, subscriber, 'i0');
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
    await tier.createWatermark({ epoch: 'e1', mark: Date.now() - 10_000 }, 10_000);
    await tier.markRevoked('u1', ['hash']);
    await fill(tier, 'hash');
    expect((await tier.get('hash'))?.entry).toBe('revoked');
  });

  it('a fill that reaches Redis past its deadline, or whose epoch the watermark does not hold (FLUSHALL), is not written, as SET_UNLESS_REVOKED does', async () => {
    const { redis, tier } = world();
    await tier.createWatermark({ epoch: 'e1', mark: Date.now() - 10_000 }, 10_000);
    await tier.set('late', session(), 60, 'e1', Date.now() - 1); // by Redis's clock
    expect(await tier.get('late')).toBeNull();
    redis.clockOffsetMs = -5000; // Redis's clock behind: the same deadline is still ahead of it
    await tier.set('late', session(), 60, 'e1', Date.now() - 1);
    expect(await tier.get('late')).toMatchObject({ epoch: 'e1' });
    await fill(tier, 'other', 60, 'e2'); // another epoch
    expect(await tier.get('other')).toBeNull();
    redis.flushall(); // the watermark gone with the marks
    await fill(tier, 'flushed');
    expect(await tier.get('flushed')).toBeNull();
  });

  it('a restore from a snapshot brings back what it held, with its absolute expiries', async () => {
    const { redis, tier } = world();
    await tier.createWatermark({ epoch: 'e1', mark: Date.now() - 10_000 }, 10_000);
    await fill(tier, 'short', 5);
    await fill(tier, 'long');
    redis.snapshot();
    await tier.markRevoked('u1', ['long']);
    await vi.advanceTimersByTimeAsync(10_000);
    redis.crash();
    redis.boot(redis.snapshots[0]);
    await vi.advanceTimersByTimeAsync(200); // the client reconnects (ioredis: 100 ms after the first failure)
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

  it('a reset subscriber connection makes the channel unhealthy at once; it reconnects and is healthy again within a few hundred ms', async () => {
    const { link, subscriber } = world();
    const channel = new ModelChannel(link, subscriber, 'i0');
    await channel.start();
    await vi.advanceTimersByTimeAsync(300);
    expect(channel.healthy).toBe(true);
    subscriber.connectionLost();
    expect(channel.healthy).toBe(false);
    expect(link.state).toBe('ready');
    await vi.advanceTimersByTimeAsync(350);
    expect(channel.healthy).toBe(true);
    channel.close();
  });

  it('a message published while a subscriber is reset is lost to it; with late delivery the publisher has its answer first', async () => {
    const { redis, link, subscriber } = world();
    const heard: string[] = [];
    subscriber.subscribe('c', (message) => heard.push(message));
    subscriber.connectionLost();
    await link.command((db) => db.publish('c', 'lost'));
    await vi.advanceTimersByTimeAsync(500);
    subscriber.unsubscribe('c');
    const late = new Scheduler(1, { commandMs: 0, messageMs: 40, queryMs: 0, exact: true });
    const lateSubscriber = new RedisLink(redis, new HostNetwork(), late);
    lateSubscriber.subscribe('c', (message) => heard.push(message));
    redis.lateDelivery = true;
    await link.command((db) => db.publish('c', 'late'));
    expect(heard).toEqual([]);
    await vi.advanceTimersByTimeAsync(40);
    expect(heard).toEqual(['late']);
  });

  it('out of memory (noeviction): SET and SADD refused, in scripts too, and the lease even when taken; reads, DEL, SREM, PUBLISH served', async () => {
    const { redis, link, tier } = world();
    await tier.createWatermark({ epoch: 'e1', mark: Date.now() - 10_000 }, 10_000);
    await fill(tier, 'hash');
    expect(await tier.lease('wl', 1000)).toBe(true);
    redis.oom = true;
    const refused = async (write: Promise<unknown>) => {
      const outcome = await settle(write);
      await tier.get('hash'); // a read answers: the breaker counts no two failures in a row
      return outcome;
    };
    expect(await refused(tier.markRevoked('u1', ['hash']))).toBe(OOM_ERROR);
    expect(await refused(fill(tier, 'other'))).toBe(OOM_ERROR);
    expect(await refused(tier.createWatermark({ epoch: 'e2', mark: Date.now() }, 10_000))).toBe(OOM_ERROR);
    expect(await refused(tier.lease('wl', 1000))).toBe(OOM_ERROR);
    expect(await refused(tier.advanceWatermark('e1', Date.now(), 10_000))).toBe('resolved'); // not forward: no SET reached
    await vi.advanceTimersByTimeAsync(1000);
    expect(await refused(tier.advanceWatermark('e1', Date.now(), 10_000))).toBe(OOM_ERROR);
    expect((await tier.get('hash'))?.entry).toMatchObject({ userId: 'u1' });
    expect(await tier.watermark()).toMatchObject({ epoch: 'e1' });
    expect(await link.command((db) => db.publish('c', 'm'))).toBe(0);
    // Refusals count as failures: two in a row open the breaker, and its PING closes it again.
    await settle(tier.markRevoked('u1', ['hash']));
    await settle(tier.markRevoked('u1', ['hash']));
    expect(tier.available).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(tier.available).toBe(true);
    await tier.forget('u1', ['hash']);
    expect(await tier.get('hash')).toBeNull();
  });

  it('the watermark: created once (NX), never later than Redis’s own clock minus the margin, moved only forward and only in its epoch', async () => {
    const { redis, tier } = world();
    redis.clockOffsetMs = -3000; // Redis's clock 3 s behind
    const now = Date.now();
    expect(await tier.watermark()).toBeNull();
    expect(await tier.createWatermark({ epoch: 'e1', mark: now + 60_000 }, 10_000)).toEqual({ epoch: 'e1', mark: now - 13_000 });
    expect(await tier.createWatermark({ epoch: 'e2', mark: now - 20_000 }, 10_000)).toEqual({ epoch: 'e1', mark: now - 13_000 });
    await tier.advanceWatermark('e1', now - 20_000, 10_000); // back: nothing
    await tier.advanceWatermark('e2', now - 12_000, 10_000); // another epoch: nothing
    expect(await tier.watermark()).toEqual({ epoch: 'e1', mark: now - 13_000 });
    await vi.advanceTimersByTimeAsync(5000);
    await tier.advanceWatermark('e1', now + 60_000, 10_000); // clamped to Redis's TIME − margin
    expect(await tier.watermark()).toEqual({ epoch: 'e1', mark: now + 5000 - 13_000 });
  });

  it('the lease: one holder until it expires', async () => {
    const { tier } = world();
    expect(await tier.lease('wl', 3750)).toBe(true);
    expect(await tier.lease('wl', 3750)).toBe(false);
    await vi.advanceTimersByTimeAsync(3750);
    expect(await tier.lease('wl', 3750)).toBe(true);
  });

  it('while Redis is down a command fails at once (no offline queue)', async () => {
    const { redis, link } = world();
    redis.crash();
    expect(await settle(link.command((db) => db.get('k')))).toBe("Stream isn't writeable and enableOfflineQueue options is false");
  });
});
