import { EventEmitter2 } from '@nestjs/event-emitter';
import { SessionEventPublisher } from './session-event.publisher.js';
import { MemoryLoginFailureCounter } from './adapters/memory/memory-login-failure.counter.js';
import { MemorySessionCache } from './adapters/memory/memory-session.cache.js';
import { MemorySessionStore } from './adapters/memory/memory-session.store.js';
import { SystemClock } from './ports/clock.js';
import { resolveSessionOptions } from './resolve-options.js';
import { LoginService } from './login.service.js';
import { NewDeviceDetector } from './new-device/new-device-detector.js';
import { PasswordAttempts } from './password-attempts.js';
import { NewDeviceEvent } from './new-device/new-device.event.js';
import { SessionEvent, SessionEventType } from './session.events.js';
import { SessionService } from './session.service.js';

function setup() {
  const events = new EventEmitter2({ wildcard: true });
  const seen: SessionEvent[] = [];
  events.on('session.*', (event: SessionEvent) => seen.push(event));
  const options = resolveSessionOptions({
    secret: 'events-secret-events-secret-events-secret',
    credentials: {
      verify: async (email, password) => (password === 'right' ? { id: 'u1', email, roles: [] } : null),
      findById: async () => null,
    },
    refreshGrace: 0,
    maxSessionsPerUser: 1,
    binding: 'ua',
  });
  const clock = new SystemClock();
  const publisher = withEmitter(new SessionEventPublisher(undefined, undefined), events);
  const store = new MemorySessionStore();
  const sessions = new SessionService(store, new MemorySessionCache(100), clock, options, publisher);
  const newDevices = new NewDeviceDetector(store, publisher, options);
  const logins = new LoginService(sessions, new PasswordAttempts(new MemoryLoginFailureCounter(), clock, options, publisher), options, newDevices);
  const types = () => seen.map((e) => e.type);
  return { sessions, logins, seen, types };
}

const meta = { ipAddress: '203.0.113.5', userAgent: 'curl/8.5.0' };

describe('lifecycle events (session.*)', () => {
  it('login, login_failed, refresh, evicted, logout, reuse_detected, hijack_suspected — never a token', async () => {
    const { sessions, logins, seen, types } = setup();
    await expect(logins.login('a@b.co', 'wrong', meta)).rejects.toThrow();
    const first = await logins.login('a@b.co', 'right', meta);
    const second = await logins.login('a@b.co', 'right', meta); // evicts the first (max 1)
    const rotated = await sessions.refresh(second.issued.tokens.refreshToken);
    await expect(sessions.refresh(second.issued.tokens.refreshToken)).rejects.toThrow(); // reuse, grace off
    const third = await logins.login('a@b.co', 'right', meta);
    await expect(sessions.validate(third.issued.tokens.accessToken, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' })).rejects.toThrow();
    const fourth = await logins.login('a@b.co', 'right', meta);
    await sessions.revoke(fourth.issued.session.id, 'logout');

    expect(types()).toEqual([
      'login_failed',
      'login',
      'login',
      'evicted',
      'refresh',
      'reuse_detected',
      'login',
      'hijack_suspected',
      'login',
      'logout',
    ] satisfies SessionEventType[]);
    expect(seen.find((e) => e.type === 'evicted')!.sessionId).toBe(first.issued.session.id);
    expect(seen.find((e) => e.type === 'login_failed')).toMatchObject({ userId: null, ipAddress: '203.0.113.5' });
    const everything = JSON.stringify(seen);
    for (const token of [first.issued.tokens, second.issued.tokens, rotated.tokens].flatMap((t) => [t.accessToken, t.refreshToken])) {
      expect(everything).not.toContain(token.slice(3, 30));
    }
  });

  it('a login from a browser family the user has not used emits new_device after login, in words, never a token', async () => {
    const { logins, seen, types } = setup();
    await logins.login('a@b.co', 'right', meta);
    const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
    const second = await logins.login('a@b.co', 'right', { ...meta, userAgent: firefox });
    expect(types()).toEqual(['login', 'login', 'evicted', 'new_device'] satisfies SessionEventType[]);
    const event = seen.at(-1) as NewDeviceEvent;
    expect(event).toBeInstanceOf(NewDeviceEvent);
    expect(event).toMatchObject({ userId: 'u1', sessionId: second.issued.session.id, userAgent: firefox, detail: 'new browser: Firefox on Linux, 203.0.113.0/24' });
    expect(event.login).toEqual({
      novel: ['browser'],
      browser: 'Firefox',
      os: 'Linux',
      network: '203.0.113.0/24',
      deviceName: null,
      summary: 'A new sign-in from Firefox on Linux (network 203.0.113.0/24)',
    });
    expect(JSON.stringify(event)).not.toContain(second.issued.tokens.accessToken.slice(3, 30));
  });

  it('a login blocked by the failure limit emits throttled', async () => {
    const { logins, types } = setup();
    for (let i = 0; i < 6; i++) await expect(logins.login('x@b.co', 'wrong', meta)).rejects.toThrow();
    await expect(logins.login('x@b.co', 'wrong', meta)).rejects.toThrow(/Too many/);
    expect(types().at(-1)).toBe('throttled');
  });
});

function withEmitter(publisher: SessionEventPublisher, emitter: EventEmitter2): SessionEventPublisher {
  publisher.emitTo(emitter);
  return publisher;
}
