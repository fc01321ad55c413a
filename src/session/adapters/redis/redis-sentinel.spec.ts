import { REQUEST_PATH_REDIS_OPTIONS, SessionRedisConnection } from './redis-connection.js';
import { isSentinelConfig, parseHostPort, sentinelClientOptions } from './redis-sentinel.js';

describe('Redis Sentinel options', () => {
  it('takes host:port strings or addresses, names the master mymaster unless told, and asks for a master', () => {
    const options = sentinelClientOptions({ sentinels: ['10.0.0.1:26379', { host: '10.0.0.2', port: 26380 }] }, REQUEST_PATH_REDIS_OPTIONS);
    expect(options).toMatchObject({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
      name: 'mymaster',
      role: 'master',
    });
    expect(sentinelClientOptions({ sentinels: ['s:1'], name: 'sessions' }, REQUEST_PATH_REDIS_OPTIONS).name).toBe('sessions');
    expect(() => sentinelClientOptions({ sentinels: ['no port'] }, REQUEST_PATH_REDIS_OPTIONS)).toThrow(/host:port/);
  });

  it('keeps the fast-fail settings and follows a failover: READONLY, a frozen sentinel, quick retries; no failover detector', () => {
    const options = sentinelClientOptions({ sentinels: ['s:1'] }, REQUEST_PATH_REDIS_OPTIONS);
    expect(options).toMatchObject({ enableOfflineQueue: false, commandTimeout: 100, maxRetriesPerRequest: 1, sentinelCommandTimeout: 500 });
    expect(options.failoverDetector).toBeUndefined(); // ioredis's default: off (see sentinelClientOptions)
    expect(options.reconnectOnError!(new Error("READONLY You can't write against a read only replica."))).toBe(true);
    expect(options.reconnectOnError!(new Error('OOM command not allowed'))).toBe(false);
    expect(options.retryStrategy!(100)).toBe(500);
    expect(options.sentinelRetryStrategy!(100)).toBe(500);
  });

  it('passes the app’s other ioredis options through, over the module’s', () => {
    const options = sentinelClientOptions({ sentinels: ['s:1'], sentinelPassword: 'p', password: 'q', db: 3, failoverDetector: true }, REQUEST_PATH_REDIS_OPTIONS);
    expect(options).toMatchObject({ sentinelPassword: 'p', password: 'q', db: 3, failoverDetector: true });
  });

  it('is what the module makes of { sentinels } (and only of that)', async () => {
    expect(isSentinelConfig({ sentinels: ['s:1'] })).toBe(true);
    expect(isSentinelConfig({ host: 'x' })).toBe(false);
    expect(isSentinelConfig('redis://x')).toBe(false);
    const connection = new SessionRedisConnection({ sentinels: ['127.0.0.1:1'], name: 'sessions', lazyConnect: true });
    try {
      expect(connection.owned).toBe(true);
      expect(connection.client.options).toMatchObject({ sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'sessions', role: 'master', enableOfflineQueue: false });
    } finally {
      connection.client.disconnect();
    }
  });

  it('parses host:port', () => {
    expect(parseHostPort(' redis-1.internal:26379 ')).toEqual({ host: 'redis-1.internal', port: 26379 });
    expect(() => parseHostPort('x:70000')).toThrow();
    expect(() => parseHostPort('x')).toThrow();
  });
});
