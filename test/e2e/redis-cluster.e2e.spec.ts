import { Cluster } from 'ioredis';
import { SharedSessionCache } from '../../src/session/adapters/shared-session.cache';
import { RedisCacheTier } from '../../src/session/adapters/redis/redis-cache.tier';
import { SessionRedisConnection } from '../../src/session/adapters/redis/redis-connection';
import { cachedSession, tokenHash } from '../../src/session/contracts/session-cache.contract';
import { SessionCache } from '../../src/session';
import { login, registerAndLogin, resetDatabase, RunningApp, startApp, uniqueEmail } from '../support/app-harness';
import { PrivateRedisCluster } from '../support/private-redis-cluster';
import { within } from '../support/timing';

const BEARER = { type: 'bearer' } as const;

/** REDIS_CLUSTER_NODES: cache, pub/sub invalidation and rate limits on a real 3-master cluster. */
describe('Redis Cluster', () => {
  let cluster: PrivateRedisCluster;
  let a: RunningApp;
  let b: RunningApp;

  beforeAll(async () => {
    await resetDatabase();
    cluster = await PrivateRedisCluster.create();
    const env = { REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.nodes, REDIS_KEY_PREFIX: 'cl:', THROTTLE_LOGIN_LIMIT: '5', TRUST_PROXY: 'true' };
    a = await startApp(env);
    b = await startApp(env);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await cluster?.destroy();
  });

  it('runs the session flows: login, cached validation, refresh, revocation seen by the other instance', async () => {
    // Both instances hear their own heartbeats through the cluster: their L1 caches are on.
    for (const app of [a, b]) {
      const cache = app.app.get(SessionCache, { strict: false }) as SharedSessionCache;
      for (let i = 0; i < 50 && !cache.healthy; i++) await new Promise((r) => setTimeout(r, 50));
      expect(cache.healthy).toBe(true);
    }
    const user = await registerAndLogin(a.http);
    const other = await login(b.http, user.email, user.password);
    for (let i = 0; i < 3; i++) {
      await a.http.get('/ping/secure').auth(user.accessToken, BEARER).expect(200);
      await b.http.get('/ping/secure').auth(other.accessToken, BEARER).expect(200);
    }
    const refreshed = await b.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    await a.http.get('/ping/secure').auth(user.accessToken, BEARER).expect(401);
    await a.http.get('/ping/secure').auth(refreshed.body.accessToken, BEARER).expect(200);
    await a.http.delete(`/auth/sessions/${other.sessionId}`).auth(refreshed.body.accessToken, BEARER).expect(204);
    // Instance b hears of it over the cluster's pub/sub within the documented 100 ms.
    const lag = await within(100, async () => (await b.http.get('/ping/secure').auth(other.accessToken, BEARER)).status === 401);
    expect(lag).toBeLessThan(100);

    // The cache really lives in the cluster, spread over its masters.
    const client = new Cluster(cluster.nodes.split(',').map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
    await new Promise((resolve) => client.once('ready', resolve));
    try {
      let keys = 0;
      for (const node of client.nodes('master')) keys += (await node.keys('cl:*')).length;
      expect(keys).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });

  it('writes cache fills over every slot (the fill script takes the session key alone there), and refuses one past its deadline', async () => {
    const client = new Cluster(cluster.nodes.split(',').map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
    await new Promise((resolve) => client.once('ready', resolve));
    try {
      const tier = new RedisCacheTier(new SessionRedisConnection(client), 'fill:');
      await tier.createWatermark({ epoch: 'e1', mark: 0 }, 0);
      const hashes = Array.from({ length: 20 }, () => tokenHash());
      for (const hash of hashes) await tier.set(hash, cachedSession(), 60, 'e1', Date.now() + 20_000);
      for (const hash of hashes) expect(await tier.get(hash)).toMatchObject({ epoch: 'e1' });
      const late = tokenHash();
      await tier.set(late, cachedSession(), 60, 'e1', Date.now() - 1000); // held in the network past its deadline
      expect(await tier.get(late)).toBeNull();
    } finally {
      client.disconnect();
    }
  });

  it('counts login attempts atomically across both instances (hash-tagged Lua keys)', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b).http.post('/auth/login').set('X-Forwarded-For', '192.0.2.44').send({ email: uniqueEmail(), password: 'wrong password' }),
      ),
    );
    expect(attempts.filter((r) => r.status !== 429)).toHaveLength(5);
  });
});
