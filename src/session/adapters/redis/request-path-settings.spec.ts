import { Logger } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { REQUEST_PATH_REDIS_OPTIONS, SessionRedisConnection } from './redis-connection.js';
import { hangingSettings } from './request-path-settings.js';

describe('Request-path settings of a Redis client', () => {
  const clients: Array<Redis | Cluster> = [];
  const lazy = <T extends Redis | Cluster>(client: T): T => {
    clients.push(client);
    return client;
  };
  let warn: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
    vi.restoreAllMocks();
  });

  it('names each setting of an ioredis default client that makes requests wait', () => {
    const found = hangingSettings(lazy(new Redis({ lazyConnect: true })));
    expect(found).toEqual([expect.stringMatching(/^enableOfflineQueue/), expect.stringMatching(/^commandTimeout is unset/)]);
    expect(hangingSettings(lazy(new Redis({ lazyConnect: true, enableOfflineQueue: false, commandTimeout: 5000, maxRetriesPerRequest: null })))).toEqual([
      expect.stringMatching(/^commandTimeout is 5000 ms/),
      expect.stringMatching(/^maxRetriesPerRequest is null/),
    ]);
    expect(hangingSettings(lazy(new Redis({ lazyConnect: true, ...REQUEST_PATH_REDIS_OPTIONS })))).toEqual([]);
  });

  it('reads a cluster’s queue, and its nodes’ timeout and retries', () => {
    expect(hangingSettings(lazy(new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true })))).toHaveLength(2);
    const fast = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true, enableOfflineQueue: false, redisOptions: { commandTimeout: 100, maxRetriesPerRequest: 1 } });
    expect(hangingSettings(lazy(fast))).toEqual([]);
  });

  it('warns once at start, naming the settings, when the app hands over a client that would make requests wait', () => {
    new SessionRedisConnection(lazy(new Redis({ lazyConnect: true })));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/The Redis client handed to redisSessionAdapters .*enableOfflineQueue.*commandTimeout.*REQUEST_PATH_REDIS_OPTIONS/);
  });

  it('says nothing of a client made with the module’s settings, nor of the module’s own', () => {
    new SessionRedisConnection(lazy(new Redis({ lazyConnect: true, ...REQUEST_PATH_REDIS_OPTIONS })));
    const own = new SessionRedisConnection({ host: '127.0.0.1', port: 1, lazyConnect: true });
    lazy(own.client);
    expect(warn).not.toHaveBeenCalled();
  });

  it('warns as well when the app’s options override the module’s fast-fail settings', () => {
    const own = new SessionRedisConnection({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: true });
    lazy(own.client);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/The Redis options given to redisSessionAdapters .*enableOfflineQueue/);
  });
});
