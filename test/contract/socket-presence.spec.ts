import { randomBytes, randomUUID } from 'node:crypto';
import { MemorySocketPresence } from '../../src/session/adapters/memory/memory-socket.presence';
import { SessionRedisConnection } from '../../src/session/adapters/redis/redis-connection';
import { RedisSocketPresence } from '../../src/session/adapters/redis/redis-socket.presence';
import type { SessionEnd, SocketPresence } from '../../src/session/ports/socket-presence';
import { TEST_REDIS_URL } from '../support/test-env';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TTL_MS = 300;

/** What every SocketPresence adapter does, with entries that live 300 ms unless renewed. */
function socketPresenceContract(name: string, make: () => Promise<{ presence: SocketPresence; close(): Promise<void> }>) {
  describe(`SocketPresence: ${name}`, () => {
    let presence: SocketPresence;
    let close: () => Promise<void>;
    beforeEach(async () => ({ presence, close } = await make()));
    afterEach(() => close());

    const entry = (sessionId: string, userId: string, socketId = randomUUID()) => ({ socketId, sessionId, userId });

    it('a session comes online with its first socket anywhere, and goes offline with its last', async () => {
      const [s, u] = [randomUUID(), `user ${randomUUID()}`];
      const a = entry(s, u);
      const b = entry(s, u);
      expect(await presence.add('A', [a])).toEqual([s]);
      expect(await presence.add('B', [b])).toEqual([]);
      expect(await presence.socketsOf(s)).toHaveLength(2);
      expect([...(await presence.onlineSessions([s, randomUUID()]))]).toEqual([s]);
      expect(await presence.onlineSessionsOfUser(u)).toEqual([s]);
      expect(await presence.remove('A', [a])).toEqual([]);
      expect(await presence.remove('B', [b])).toEqual([{ sessionId: s, userId: u }]);
      expect(await presence.onlineSessionsOfUser(u)).toEqual([]);
    });

    it('entries no instance renews stop counting after the TTL, and one reap answers them once', async () => {
      const [s, u] = [randomUUID(), randomUUID()];
      await presence.add('dead', [entry(s, u)]);
      expect((await presence.counts()).sessions).toBeGreaterThanOrEqual(1);
      await sleep(TTL_MS + 50);
      expect((await presence.onlineSessions([s])).size).toBe(0);
      expect(await presence.reap()).toContainEqual({ sessionId: s, userId: u });
      expect(await presence.reap()).not.toContainEqual({ sessionId: s, userId: u });
    });

    it('a renewal (heartbeat) keeps entries beyond the TTL', async () => {
      const e = entry(randomUUID(), randomUUID());
      await presence.add('A', [e]);
      for (let i = 0; i < 3; i += 1) {
        await sleep(TTL_MS / 2);
        expect(await presence.add('A', [e])).toEqual([]);
      }
      expect((await presence.onlineSessions([e.sessionId])).size).toBe(1);
    });

    it('ends published reach every subscriber', async () => {
      const heard: SessionEnd[] = [];
      presence.onEnds((ends) => heard.push(...ends));
      const end = { sessionId: randomUUID(), userId: randomUUID(), reason: 'logout' };
      await presence.publishEnds([end]);
      for (let i = 0; i < 50 && heard.length === 0; i += 1) await sleep(10);
      expect(heard).toEqual([end]);
    });
  });
}

socketPresenceContract('memory', async () => ({ presence: new MemorySocketPresence(TTL_MS), close: async () => undefined }));

socketPresenceContract('Redis', async () => {
  const presence = new RedisSocketPresence(new SessionRedisConnection(TEST_REDIS_URL), `sp${randomBytes(3).toString('hex')}:`, TTL_MS);
  await presence.start();
  return { presence, close: () => presence.close() };
});

