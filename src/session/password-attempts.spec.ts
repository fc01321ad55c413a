import { MemoryLoginFailureCounter } from './adapters/memory/memory-login-failure.counter.js';
import { InvalidCredentialsError, InvalidTokenError, LoginThrottledError } from './errors/session.errors.js';
import { Clock } from './ports/clock.js';
import type { CredentialsVerifier, SessionUser } from './ports/credentials-verifier.js';
import { PasswordAttempts } from './password-attempts.js';
import { resolveSessionOptions } from './resolve-options.js';
import type { SessionEventPublisher } from './session-event.publisher.js';
import type { SessionEvent } from './session.events.js';

class FixedClock extends Clock {
  ms = Date.UTC(2030, 0, 1);
  now(): number {
    return this.ms;
  }
}

const ada: SessionUser = { id: 'u-ada', email: 'ada@example.com', roles: [] };

function setup(credentials: Partial<CredentialsVerifier> = {}) {
  const verifier: CredentialsVerifier = {
    verify: vi.fn(async (email: string, password: string) => (email === ada.email && password === 'right' ? ada : null)),
    findById: async (id) => (id === ada.id ? ada : null),
    findByEmail: vi.fn(async (email: string) => (email === ada.email ? ada : null)),
    ...credentials,
  };
  const options = resolveSessionOptions({ secret: 'attempts-secret-attempts-secret-attempts', credentials: verifier });
  const seen: SessionEvent[] = [];
  const publisher = { publish: (event: SessionEvent) => seen.push(event) } as unknown as SessionEventPublisher;
  const clock = new FixedClock();
  const attempts = new PasswordAttempts(new MemoryLoginFailureCounter(), clock, options, publisher);
  const login = (email: string, password: string, ip = '203.0.113.5') =>
    attempts.verify({ email, metadata: { ipAddress: ip, userAgent: 'test' }, check: () => verifier.verify(email, password) });
  const confirm = (password: string, ip = '203.0.113.5') =>
    attempts.confirm({ ip, headers: { 'user-agent': 'test' } }, ada.id, password, 'password change');
  return { attempts, verifier, seen, clock, login, confirm };
}

describe('PasswordAttempts', () => {
  it('a failed login against an existing account is recorded with its id; an unknown one without', async () => {
    const { login, seen } = setup();
    await expect(login('ada@example.com', 'wrong')).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(login('ghost@example.com', 'wrong')).rejects.toBeInstanceOf(InvalidCredentialsError);
    expect(seen.map((e) => [e.type, e.userId, e.detail])).toEqual([
      ['login_failed', ada.id, 'invalid credentials'],
      ['login_failed', null, 'invalid credentials'],
    ]);
  });

  it('looks the account up on every failure, known or not, and never on a success (the same work either way)', async () => {
    const { login, verifier } = setup();
    await expect(login('ada@example.com', 'wrong')).rejects.toThrow();
    await expect(login('ghost@example.com', 'wrong')).rejects.toThrow();
    await login('ada@example.com', 'right');
    expect(verifier.findByEmail).toHaveBeenCalledTimes(2);
  });

  it('without findByEmail, or when it fails, the entry has no user id and the answer stays 401', async () => {
    const without = setup({ findByEmail: undefined });
    await expect(without.login('ada@example.com', 'wrong')).rejects.toBeInstanceOf(InvalidCredentialsError);
    expect(without.seen[0].userId).toBeNull();
    const failing = setup({ findByEmail: async () => Promise.reject(new Error('database down')) });
    await expect(failing.login('ada@example.com', 'wrong')).rejects.toBeInstanceOf(InvalidCredentialsError);
    expect(failing.seen[0].userId).toBeNull();
  });

  it('a wrong password at confirm counts against the login backoff of that account and network', async () => {
    const { confirm, login, seen } = setup();
    for (let i = 0; i < 6; i++) await expect(confirm('wrong')).rejects.toBeInstanceOf(InvalidCredentialsError);
    expect(seen.filter((e) => e.type === 'login_failed').map((e) => [e.userId, e.detail])).toEqual(
      Array.from({ length: 6 }, () => [ada.id, 'invalid credentials (password change)']),
    );
    // The 6th failure blocks the pair for 1 s: the right password is refused too, at confirm and at login.
    await expect(confirm('right')).rejects.toBeInstanceOf(LoginThrottledError);
    await expect(login('ADA@example.com ', 'right', '203.0.113.77')).rejects.toBeInstanceOf(LoginThrottledError);
    expect(seen.at(-2)).toMatchObject({ type: 'throttled', userId: ada.id, detail: 'password change: too many failures for this account from this network' });
    // Another network is not affected.
    await expect(confirm('right', '198.51.100.1')).resolves.toEqual(ada);
  });

  it('failed logins count against confirm too, and a blocked pair never runs the check', async () => {
    const { confirm, login, verifier, clock } = setup();
    for (let i = 0; i < 6; i++) await expect(login('ada@example.com', 'wrong')).rejects.toThrow();
    vi.mocked(verifier.verify).mockClear();
    await expect(confirm('right')).rejects.toMatchObject({ retryAfter: 1 });
    expect(verifier.verify).not.toHaveBeenCalled();
    clock.ms += 1_000;
    await expect(confirm('right')).resolves.toEqual(ada);
  });

  it('confirm for a user that is gone is an invalid token, not a password failure', async () => {
    const { attempts, seen } = setup();
    await expect(attempts.confirm({ ip: '203.0.113.5', headers: {} }, 'u-gone', 'right')).rejects.toBeInstanceOf(InvalidTokenError);
    expect(seen).toEqual([]);
  });
});
