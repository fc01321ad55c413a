import { MemoryLoginFailureCounter } from './adapters/memory/memory-login-failure.counter.js';
import { InvalidCredentialsError, LoginThrottledError } from './errors/session.errors.js';
import { LoginService } from './login.service.js';
import type { NewDeviceDetector } from './new-device/new-device-detector.js';
import { PasswordAttempts } from './password-attempts.js';
import { SystemClock } from './ports/clock.js';
import type { ResolvedSessionOptions } from './session.options.js';
import type { SessionService } from './session.service.js';

/** LoginService called directly, as a custom login flow does (no DTO normalizes for it). */
describe('LoginService and spellings of one address', () => {
  const verify = vi.fn().mockResolvedValue(null);
  const options = {
    credentials: { verify, findById: vi.fn() },
    loginFailurePolicy: { freeAttempts: 2, windowSeconds: 900, maxBlockSeconds: 900 },
  } as unknown as ResolvedSessionOptions;
  const service = new LoginService({} as SessionService, new PasswordAttempts(new MemoryLoginFailureCounter(), new SystemClock(), options), options, { check: vi.fn() } as unknown as NewDeviceDetector);
  const metadata = { ipAddress: '203.0.113.7' };

  it('asks the app about the normalized address, and counts every spelling as one account', async () => {
    await expect(service.login('\uff41dmin@example.com', 'guess', metadata)).rejects.toBeInstanceOf(InvalidCredentialsError);
    expect(verify).toHaveBeenLastCalledWith('admin@example.com', 'guess');
    await expect(service.login('\uFF21DMIN@EXAMPLE.COM', 'guess', metadata)).rejects.toBeInstanceOf(InvalidCredentialsError);
    // The third failure starts a block, whatever the spelling.
    await expect(service.login('a\uff44min@example.com', 'guess', metadata)).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(service.login('admin@example.com', 'guess', metadata)).rejects.toBeInstanceOf(LoginThrottledError);
  });
});
