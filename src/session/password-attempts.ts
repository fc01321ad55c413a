import { Inject, Injectable, Optional } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { InvalidCredentialsError, InvalidTokenError, LoginThrottledError } from './errors/session.errors.js';
import { requestMetadata, type MetadataRequest } from './http/request-metadata.js';
import { Clock } from './ports/clock.js';
import type { SessionUser } from './ports/credentials-verifier.js';
import { LoginFailureCounter } from './ports/login-failure-counter.js';
import type { SessionMetadata } from './ports/session-record.js';
import { normalizeEmail } from './normalize-email.js';
import { networkOf } from './session-binding.js';
import { RESOLVED_SESSION_OPTIONS } from './session.constants.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import { SessionEvent, SessionEventType } from './session.events.js';
import type { ResolvedSessionOptions } from './session.options.js';

/** One password check, run under the login defences by `PasswordAttempts.verify`. */
export interface PasswordAttempt<T> {
  /** The account's email (as typed at login, or as stored): with the client's network, it keys the backoff. */
  email: string;
  /** Where the attempt comes from; its `ipAddress` picks the network. */
  metadata: SessionMetadata;
  /** The check itself: what it vouches for, or null when the password is wrong (or the account unknown). */
  check: () => Promise<T | null>;
  /**
   * The account's id when the caller knows it (a signed-in user). Else, on a failure, it is looked
   * up with `CredentialsVerifier.findByEmail` (when the app has it) for the audit entry.
   */
  userId?: string;
  /**
   * What the password was asked for, in a few words, for the audit entries.
   * @default 'login'
   */
  purpose?: string;
}

/**
 * Where every password check goes, login's and any other route's (changing the password,
 * deleting the account): a wrong password counts against the same per-(account, client network)
 * backoff as a failed login and is recorded as `login_failed` with the account's id when the
 * account exists; while the pair is blocked, even the right password is refused
 * (`LoginThrottledError`, 429). The per-address limit is the route's: put `@ChecksPassword()` on it.
 *
 * Unknown accounts and wrong passwords take the same path: the account lookup for the audit
 * entry happens on every failure, whether or not the account exists.
 */
@Injectable()
export class PasswordAttempts {
  constructor(
    private readonly failures: LoginFailureCounter,
    private readonly clock: Clock,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Optional() private readonly events: SessionEventPublisher = new SessionEventPublisher(),
  ) {}

  /**
   * Runs `attempt.check` unless the (account, network) pair is blocked.
   * @returns what the check vouched for
   * @throws LoginThrottledError while the pair is blocked (the check does not run)
   * @throws InvalidCredentialsError when the check returns null
   */
  async verify<T>(attempt: PasswordAttempt<T>): Promise<T> {
    const purpose = attempt.purpose ?? 'login';
    const key = failureKey(attempt.email, attempt.metadata.ipAddress);
    const { blockedFor: wait, recorded } = await this.failures.check(key, this.clock.now());
    if (wait > 0) {
      this.emit('throttled', attempt.userId ?? null, attempt.metadata, `${purpose}: too many failures for this account from this network`);
      throw new LoginThrottledError(wait);
    }
    const result = await attempt.check();
    if (result === null) {
      const [, userId] = await Promise.all([
        this.failures.fail(key, this.clock.now(), this.options.loginFailurePolicy),
        attempt.userId ?? this.accountIdOf(attempt.email),
      ]);
      this.emit('login_failed', userId, attempt.metadata, purpose === 'login' ? 'invalid credentials' : `invalid credentials (${purpose})`);
      throw new InvalidCredentialsError();
    }
    if (recorded) await this.failures.reset(key);
    return result;
  }

  /**
   * Checks the password of a signed-in user (before a password change, an account deletion…)
   * through the app's `CredentialsVerifier`, under the same defences as a login.
   * @param req the request: the client's address and user agent are read from it
   * @param purpose what the password is asked for, for the audit entries (e.g. `password change`)
   * @returns the user
   * @throws InvalidTokenError when the user no longer exists
   * @throws LoginThrottledError, InvalidCredentialsError as `verify`
   */
  async confirm(req: MetadataRequest, userId: string, password: string, purpose = 're-authentication'): Promise<SessionUser> {
    const user = await this.options.credentials.findById(userId);
    if (!user) throw new InvalidTokenError('user_gone');
    return this.verify({
      email: user.email,
      userId: user.id,
      metadata: requestMetadata(req),
      purpose,
      check: () => this.options.credentials.verify(user.email, password),
    });
  }

  /**
   * The account's id for the audit entry; null when unknown, or when the app cannot say. A lookup
   * that fails leaves the entry without one rather than turning the 401 into a 5xx.
   */
  private async accountIdOf(email: string): Promise<string | null> {
    try {
      const user = await this.options.credentials.findByEmail?.(email);
      return user?.id ?? null;
    } catch {
      return null;
    }
  }

  private emit(type: SessionEventType, userId: string | null, metadata: SessionMetadata, detail: string): void {
    this.events.publish(
      new SessionEvent(type, new Date(this.clock.now()), userId, null, metadata.ipAddress ?? null, metadata.userAgent ?? null, detail),
    );
  }
}

/**
 * SHA-256 of account and network: no email in Redis, and one key per /24 or /48. The email is
 * normalized here too (`normalizeEmail`), so a login (however spelled) and a signed-in check (as
 * stored) share a key.
 */
function failureKey(email: string, ip: string | null | undefined): string {
  return createHash('sha256').update(normalizeEmail(email)).update('|').update(networkOf(ip)).digest('base64url');
}
