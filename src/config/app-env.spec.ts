import { parseAppEnv, redisConfigOf } from './app-env';

describe('parseAppEnv', () => {
  it('fills in the contract defaults', () => {
    const env = parseAppEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      DATA_DIR: './.data',
      SESSION_ACCESS_TTL: 900,
      SESSION_REFRESH_TTL: 604800,
      SESSION_IDLE_TTL: 604800,
      SESSION_ABSOLUTE_TTL: 2592000,
      SESSION_MAX_PER_USER: 10,
      SESSION_REFRESH_GRACE: 10,
      SESSION_COOKIES: true,
      THROTTLE_LOGIN_LIMIT: 5,
      THROTTLE_LOGIN_TTL: 60,
      THROTTLE_LIMIT: 100,
      THROTTLE_TTL: 60,
      HTTP_ADAPTER: 'express',
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });

  it('reads numbers and booleans; empty values count as unset', () => {
    const env = parseAppEnv({ PORT: '8080', SESSION_COOKIES: 'false', REDIS_URL: '', SESSION_REFRESH_GRACE: '0' });
    expect(env.PORT).toBe(8080);
    expect(env.SESSION_COOKIES).toBe(false);
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.SESSION_REFRESH_GRACE).toBe(0);
  });

  it('SESSION_COOKIES: a yes, a no, or only (cookies without the tokens in the body); anything else is named', () => {
    expect(parseAppEnv({ SESSION_COOKIES: 'only' }).SESSION_COOKIES).toBe('only');
    expect(parseAppEnv({ SESSION_COOKIES: 'ONLY' }).SESSION_COOKIES).toBe('only');
    expect(parseAppEnv({ SESSION_COOKIES: 'true' }).SESSION_COOKIES).toBe(true);
    expect(parseAppEnv({ SESSION_COOKIES: '1' }).SESSION_COOKIES).toBe(true);
    expect(parseAppEnv({ SESSION_COOKIES: 'off' }).SESSION_COOKIES).toBe(false);
    expect(() => parseAppEnv({ SESSION_COOKIES: 'onyl' })).toThrow(/SESSION_COOKIES must be true, false or only/);
  });

  it('names each bad variable', () => {
    expect(() => parseAppEnv({ PORT: 'abc', SESSION_MAX_PER_USER: '0' })).toThrow(/PORT[\s\S]*SESSION_MAX_PER_USER|SESSION_MAX_PER_USER[\s\S]*PORT/);
    expect(() => parseAppEnv({ HTTP_ADAPTER: 'koa' })).toThrow(/HTTP_ADAPTER/);
  });

  it('logs JSON at info unless told otherwise, and refuses levels and formats it does not have', () => {
    expect(parseAppEnv({})).toMatchObject({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    expect(parseAppEnv({ LOG_LEVEL: 'silent' }).LOG_LEVEL).toBe('silent');
    expect(() => parseAppEnv({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL/);
    expect(() => parseAppEnv({ LOG_FORMAT: 'pretty' })).toThrow(/LOG_FORMAT/);
  });

  it('reads the adapter and checks the cluster node list', () => {
    expect(parseAppEnv({ HTTP_ADAPTER: 'fastify' }).HTTP_ADAPTER).toBe('fastify');
    expect(() => parseAppEnv({ REDIS_CLUSTER_NODES: 'not a node list' })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(redisConfigOf(parseAppEnv({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, 127.0.0.1:7001', REDIS_URL: 'redis://x' }))).toEqual({
      clusterNodes: ['127.0.0.1:7000', '127.0.0.1:7001'],
    });
    expect(redisConfigOf(parseAppEnv({ REDIS_URL: 'redis://x:6379' }))).toBe('redis://x:6379');
  });

  it('reads Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME, default mymaster) instead of REDIS_URL, and refuses a bad list or both kinds', () => {
    expect(redisConfigOf(parseAppEnv({ REDIS_SENTINELS: 's1:26379, s2:26379', REDIS_URL: 'redis://x' }))).toEqual({ sentinels: ['s1:26379', 's2:26379'], name: 'mymaster' });
    expect(redisConfigOf(parseAppEnv({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'sessions' }))).toEqual({ sentinels: ['s1:26379'], name: 'sessions' });
    expect(() => parseAppEnv({ REDIS_SENTINELS: 's1' })).toThrow(/REDIS_SENTINELS: must be host:port/);
    expect(() => parseAppEnv({ REDIS_SENTINELS: 's1:1', REDIS_CLUSTER_NODES: 'c1:1' })).toThrow(/REDIS_SENTINELS: set either REDIS_CLUSTER_NODES .* or REDIS_SENTINELS/);
    expect(() => parseAppEnv({ REDIS_SENTINELS: 's1:1', REDIS_SENTINEL_NAME: 'my master' })).toThrow(/REDIS_SENTINEL_NAME/);
  });
});
