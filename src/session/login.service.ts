import { Inject, Injectable } from '@nestjs/common';
import { NewDeviceDetector } from './new-device/new-device-detector.js';
import type { SessionUser } from './ports/credentials-verifier.js';
import type { SessionMetadata } from './ports/session-record.js';
import { normalizeEmail } from './normalize-email.js';
import { PasswordAttempts } from './password-attempts.js';
import { RESOLVED_SESSION_OPTIONS } from './session.constants.js';
import type { ResolvedSessionOptions } from './session.options.js';
import { SessionService } from './session.service.js';
import type { IssuedSession, PresentedTokens } from './session.types.js';

/**
 * Logging in: checks credentials through the app's `CredentialsVerifier` as a `PasswordAttempts`
 * check (repeated failures per account and client network wait a growing delay), and opens a
 * session (a `new_device` event when its client is new to the user: `NewDeviceDetector`).
 * Unknown email and wrong password fail alike.
 */
@Injectable()
export class LoginService {
  constructor(
    private readonly sessions: SessionService,
    private readonly passwords: PasswordAttempts,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly newDevices: NewDeviceDetector,
  ) {}

  /**
   * @param presented the tokens the client sent with the login: the session they belong to, if
   *   it is a live one of this user, ends once the new one is open (`replaced`)
   * @throws LoginThrottledError while this account is blocked for this network
   * @throws InvalidCredentialsError
   */
  async login(
    email: string,
    password: string,
    metadata: SessionMetadata,
    presented: PresentedTokens = {},
  ): Promise<{ issued: IssuedSession; user: SessionUser }> {
    // The form the app is asked about, so every spelling of one account shares its failure count.
    const normalized = normalizeEmail(email);
    const user = await this.passwords.verify({
      email: normalized,
      metadata,
      check: () => this.options.credentials.verify(normalized, password),
    });
    return { issued: await this.open(user, metadata, presented), user };
  }

  /**
   * Opens a session for a user already authenticated (by `login`, or by the app's own flow through
   * `SessionIssuer.issue`), reading the new-device check's history with the eviction, then runs
   * the check.
   */
  async open(user: SessionUser, metadata: SessionMetadata, presented: PresentedTokens = {}): Promise<IssuedSession> {
    const { issued, history } = await this.sessions.createReadingHistory(
      { userId: user.id, roles: user.roles, ...metadata, presented },
      (session) => this.newDevices.historyQuery(session),
    );
    await this.newDevices.check(issued.session, history);
    return issued;
  }
}
