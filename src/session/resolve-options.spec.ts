import { SessionConfigurationError } from './errors/session-configuration.error.js';
import type { CredentialsVerifier } from './ports/credentials-verifier.js';
import { resolveSessionOptions } from './resolve-options.js';
import { SESSION_DEFAULTS, SessionModuleOptions } from './session.options.js';

const SECRET = 'a'.repeat(32);
const credentials: CredentialsVerifier = {
  verify: async () => null,
  findById: async () => null,
};

function resolve(overrides: Partial<SessionModuleOptions> = {}) {
  return resolveSessionOptions({ secret: SECRET, credentials, ...overrides });
}

function configError(fn: () => unknown): SessionConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigurationError);
    return error as SessionConfigurationError;
  }
  throw new Error('expected a SessionConfigurationError, nothing was thrown');
}

describe('resolveSessionOptions', () => {
  describe('defaults', () => {
    it('fills every default from SESSION_DEFAULTS', () => {
      const resolved = resolve();
      expect(resolved).toMatchObject({
        secrets: [SECRET],
        credentials,
        accessTtl: SESSION_DEFAULTS.accessTtl,
        refreshTtl: SESSION_DEFAULTS.refreshTtl,
        idleTtl: SESSION_DEFAULTS.idleTtl,
        absoluteTtl: SESSION_DEFAULTS.absoluteTtl,
        maxSessionsPerUser: SESSION_DEFAULTS.maxSessionsPerUser,
        refreshGrace: SESSION_DEFAULTS.refreshGrace,
        cookies: true,
        cacheTtl: SESSION_DEFAULTS.cacheTtl,
        loginRateLimit: { limit: 5, ttl: 60 },
        rateLimit: { limit: 100, ttl: 60 },
        authPath: '/auth',
      });
    });

    it('the documented default values', () => {
      const resolved = resolve();
      expect(resolved.accessTtl).toBe(900);
      expect(resolved.refreshTtl).toBe(604_800);
      expect(resolved.idleTtl).toBe(604_800);
      expect(resolved.absoluteTtl).toBe(2_592_000);
      expect(resolved.maxSessionsPerUser).toBe(10);
      expect(resolved.refreshGrace).toBe(10);
      expect(resolved.activityWriteInterval).toBe(60);
    });

    it('does not share the rate-limit default objects between resolutions', () => {
      const a = resolve();
      a.loginRateLimit.limit = 999;
      a.rateLimit.ttl = 999;
      const b = resolve();
      expect(b.loginRateLimit).toEqual({ limit: 5, ttl: 60 });
      expect(b.rateLimit).toEqual({ limit: 100, ttl: 60 });
      expect(SESSION_DEFAULTS.loginRateLimit).toEqual({ limit: 5, ttl: 60 });
    });

    it('keeps the values given', () => {
      const resolved = resolve({
        accessTtl: 60,
        refreshTtl: 3600,
        idleTtl: 1200,
        absoluteTtl: 7200,
        maxSessionsPerUser: 3,
        refreshGrace: 0,
        activityWriteInterval: 5,
        cookies: false,
        cacheTtl: 30,
        loginRateLimit: { limit: 2, ttl: 10 },
        rateLimit: { limit: 20, ttl: 30 },
      });
      expect(resolved).toMatchObject({
        accessTtl: 60,
        refreshTtl: 3600,
        idleTtl: 1200,
        absoluteTtl: 7200,
        maxSessionsPerUser: 3,
        refreshGrace: 0,
        activityWriteInterval: 5,
        cookies: false,
        cacheTtl: 30,
        loginRateLimit: { limit: 2, ttl: 10 },
        rateLimit: { limit: 20, ttl: 30 },
      });
    });
  });

  describe('activityWriteInterval default = max(1, min(60, floor(idleTtl / 20)))', () => {
    it.each([
      [604_800, 60],
      [2400, 60],
      [1200, 60],
      [1199, 59],
      [600, 30],
      [400, 20],
      [59, 2],
      [40, 2],
      [39, 1],
      [20, 1],
      [19, 1],
      [2, 1],
    ])('idleTtl %i → %i', (idleTtl, expected) => {
      expect(resolve({ idleTtl }).activityWriteInterval).toBe(expected);
      expect(expected).toBe(Math.max(1, Math.min(60, Math.floor(idleTtl / 20))));
    });

    it('an explicit value wins over the default', () => {
      expect(resolve({ idleTtl: 600, activityWriteInterval: 7 }).activityWriteInterval).toBe(7);
    });

    it('is rejected when not well below idleTtl', () => {
      const error = configError(() => resolve({ idleTtl: 100, activityWriteInterval: 100 }));
      expect(error.message).toMatch(/activityWriteInterval/);
      expect(error.message).toMatch(/idleTtl/);
      configError(() => resolve({ idleTtl: 100, activityWriteInterval: 200 }));
    });
  });

  describe('cookies', () => {
    it.each([true, false, 'only'] as const)('accepts %j', (cookies) => {
      expect(resolve({ cookies }).cookies).toBe(cookies);
    });

    it('rejects anything else, naming the option and its values', () => {
      const error = configError(() => resolve({ cookies: 'yes' as never }));
      expect(error.message).toMatch(/"cookies" must be true, false or "only"/);
    });
  });

  describe('secrets', () => {
    it('accepts one secret or several, first signs (order kept)', () => {
      const other = 'b'.repeat(48);
      expect(resolve({ secret: [other, SECRET] }).secrets).toEqual([other, SECRET]);
    });

    it('trims secrets and drops empty ones', () => {
      expect(resolve({ secret: [`  ${SECRET}\n`, '', '   '] }).secrets).toEqual([SECRET]);
    });

    it('rejects a short secret with a message saying the minimum and how to make one', () => {
      const error = configError(() => resolve({ secret: 'too-short' }));
      expect(error.name).toBe('SessionConfigurationError');
      expect(error.message).toContain('32');
      expect(error.message).toContain('9');
      expect(error.message).toMatch(/openssl rand/);
      // The message must not echo the secret.
      expect(error.message).not.toContain('too-short');
    });

    it('rejects 31 characters, accepts exactly 32', () => {
      configError(() => resolve({ secret: 'a'.repeat(31) }));
      expect(resolve({ secret: 'a'.repeat(32) }).secrets).toHaveLength(1);
    });

    it('measures the length after trimming', () => {
      configError(() => resolve({ secret: ` ${'a'.repeat(30)} ` }));
    });

    it('rejects a short secret among good ones (a rotated-in key must be strong too)', () => {
      const error = configError(() => resolve({ secret: [SECRET, 'short'] }));
      expect(error.message).toMatch(/at least 32/);
    });

    it.each([
      ['an empty string', ''],
      ['only whitespace', '     '],
      ['an empty array', []],
      ['an array of blanks', ['', '  ']],
      ['undefined', undefined],
      ['null', null],
    ])('rejects %s as a missing secret, naming SESSION_SECRET', (_label, secret) => {
      const error = configError(() => resolve({ secret: secret as unknown as string }));
      expect(error.message).toMatch(/secret/);
      expect(error.message).toMatch(/SESSION_SECRET/);
    });
  });

  describe('credentials', () => {
    it.each([
      ['undefined', undefined],
      ['null', null],
    ])('rejects %s credentials with a message saying what to supply', (_label, value) => {
      const error = configError(() =>
        resolveSessionOptions({ secret: SECRET, credentials: value as unknown as CredentialsVerifier }),
      );
      expect(error.message).toMatch(/credentials/);
      expect(error.message).toMatch(/CredentialsVerifier/);
    });
  });

  describe('numbers', () => {
    const numeric = [
      'accessTtl',
      'refreshTtl',
      'idleTtl',
      'absoluteTtl',
      'maxSessionsPerUser',
      'activityWriteInterval',
      'cacheTtl',
    ] as const;
    const invalid: Array<[string, number]> = [
      ['zero', 0],
      ['negative', -1],
      ['fractional', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
    ];

    for (const name of numeric) {
      it.each(invalid)(`rejects ${name} = %s, naming the option`, (_label, value) => {
        const error = configError(() => resolve({ [name]: value }));
        expect(error.message).toContain(`"${name}"`);
        expect(error.message).toContain(String(value));
      });
    }

    it('rejects a number given as a string, saying it is a string', () => {
      const error = configError(() => resolve({ accessTtl: '900' as unknown as number }));
      expect(error.message).toContain('got "900" (a string)');
    });

    it.each([
      ['negative', -1],
      ['fractional', 0.5],
      ['NaN', Number.NaN],
    ])('rejects refreshGrace = %s', (_label, refreshGrace) => {
      const error = configError(() => resolve({ refreshGrace }));
      expect(error.message).toMatch(/refreshGrace/);
    });

    it('the new-device check: 30 days and 50 sessions by default; 0 turns it off; bad values named', () => {
      expect(resolve()).toMatchObject({ newDeviceLookback: 2_592_000, newDeviceLookbackSessions: 50 });
      expect(resolve({ newDeviceLookback: 0 }).newDeviceLookback).toBe(0);
      expect(configError(() => resolve({ newDeviceLookback: -1 })).message).toContain('"newDeviceLookback"');
      for (const value of [0, 1001, 2.5, Number.NaN]) {
        expect(configError(() => resolve({ newDeviceLookbackSessions: value })).message).toContain('"newDeviceLookbackSessions"');
      }
    });

    it('accepts refreshGrace = 0 (turned off)', () => {
      expect(resolve({ refreshGrace: 0 }).refreshGrace).toBe(0);
    });

    it.each([
      ['loginRateLimit', { limit: 0, ttl: 60 }, 'loginRateLimit.limit'],
      ['loginRateLimit', { limit: 5, ttl: -1 }, 'loginRateLimit.ttl'],
      ['rateLimit', { limit: 1.5, ttl: 60 }, 'rateLimit.limit'],
      ['rateLimit', { limit: 100, ttl: Number.NaN }, 'rateLimit.ttl'],
    ] as const)('rejects %s = %j, naming %s', (name, limit, label) => {
      const error = configError(() => resolve({ [name]: limit }));
      expect(error.message).toContain(label);
    });
  });

  describe('routes and metrics', () => {
    it('scopes the refresh cookie to the routes path, /auth when there are no routes', () => {
      expect(resolveSessionOptions({ secret: SECRET, credentials }, { routes: 'api/auth/' }).authPath).toBe('/api/auth');
      expect(resolveSessionOptions({ secret: SECRET, credentials }, { routes: false }).authPath).toBe('/auth');
    });

    it.each(['', '/', 'a b', 'auth?x=1'])('rejects the routes path %j, naming the extra', (routes) => {
      const error = configError(() => resolveSessionOptions({ secret: SECRET, credentials }, { routes }));
      expect(error.message).toContain('"routes"');
    });

    it("counts in prom-client's global registry by default, in none with metrics: false", async () => {
      const { register } = await import('prom-client');
      expect(resolve().metrics).toBe(register);
      expect(resolve({ metrics: false }).metrics).toBeNull();
    });
  });
});
