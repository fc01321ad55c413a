import { Inject, Injectable, Optional } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { InvalidCredentialsError, LoginThrottledError } from './errors/session.errors.js';
import { Clock } from './ports/clock.js';
import { LoginFailureCounter } from './ports/login-failure-counter.js';
import type { SessionUser } from './ports/credentials-verifier.js';
import type { SessionMetadata } from './ports/session-record.js';
import { normalizeEmail } from './normalize-email.js';
import { networkOf } from './session-binding.js';
import { RESOLVED_SESSION_OPTIONS } from './session.constants.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import { SessionEvent, SessionEventType } from './session.events.js';
import type { ResolvedSessionOptions } from './session.options.js';
import { SessionService } from './session.service.js';
import type { IssuedSession } from './session.types.js';

/**
 * Logging in: checks credentials through the app's `CredentialsVerifier`, slows repeated
 * failures per (account, client network) with a growing delay, and opens a session.
 * Unknown email and wrong password fail alike.
 */
@Injectable()
export class LoginService {
  constructor(
    private readonly sessions: SessionService,
    private readonly failures: LoginFailureCounter,
    private readonly clock: Clock,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Optional() private readonly events: SessionEventPublisher = new SessionEventPublisher(),
  ) {}

  /**
   * @throws LoginThrottledError while this account is blocked for this network
   * @throws InvalidCredentialsError
   */
  async login(email: string, password: string, metadata: SessionMetadata): Promise<{ issued: IssuedSession; user: SessionUser }> {
    // The form the app is asked about, so every spelling of one account shares its failure count.
    const normalized = normalizeEmail(email);
    const key = failureKey(normalized, metadata.ipAddress);
    const wait = await this.failures.blockedFor(key, this.clock.now());
    if (wait > 0) {
      this.emit('throttled', null, metadata, 'login: too many failures for this account from this network');
      throw new LoginThrottledError(wait);
    }
    const user = await this.options.credentials.verify(normalized, password);
    if (!user) {
      await this.failures.fail(key, this.clock.now(), this.options.loginFailurePolicy);
      this.emit('login_failed', null, metadata, 'invalid credentials');
      throw new InvalidCredentialsError();
    }
    await this.failures.reset(key);
    const issued = await this.sessions.create({ userId: user.id, roles: user.roles, ...metadata });
    return { issued, user };
  }

  private emit(type: SessionEventType, userId: string | null, metadata: SessionMetadata, detail: string): void {
    this.events.publish(
      new SessionEvent(type, new Date(this.clock.now()), userId, null, metadata.ipAddress ?? null, metadata.userAgent ?? null, detail),
    );
  }
}

/** SHA-256 of account and network: no email in Redis, and one key per /24 or /48. */
function failureKey(email: string, ip: string | null | undefined): string {
  return createHash('sha256').update(email).update('|').update(networkOf(ip)).digest('base64url');
}
