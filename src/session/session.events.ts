/**
 * Lifecycle events, emitted through `@nestjs/event-emitter` when the app has it
 * (`EventEmitterModule.forRoot()`); subscribe with `@OnEvent(SESSION_EVENT.login)` or
 * `@OnEvent('session.*')`. They never carry a token or a token hash.
 */
export const SESSION_EVENT_TYPES = [
  'login',
  'login_failed',
  'refresh',
  'logout',
  'revoked',
  'replaced',
  'evicted',
  'expired',
  'reuse_detected',
  'hijack_suspected',
  'throttled',
  /** An app changed the roles of a user's live sessions (`SessionService.changeLiveSessions`); `actorId` is who. */
  'roles_changed',
  /** A login from a browser family, network or device id the user's recent sessions do not have (`NewDeviceEvent`). */
  'new_device',
] as const;

export type SessionEventType = (typeof SESSION_EVENT_TYPES)[number];

/** Event names: `session.<type>`. */
export const SESSION_EVENT = Object.fromEntries(
  SESSION_EVENT_TYPES.map((type) => [type, `session.${type}`]),
) as Record<SessionEventType, string>;

/** One thing that happened to a session, or to a login attempt. */
export class SessionEvent {
  constructor(
    readonly type: SessionEventType,
    readonly at: Date,
    /** Whose session (or account) it was; null for a login attempt on an unknown account. */
    readonly userId: string | null,
    readonly sessionId: string | null,
    /** The client the event came from (for an admin's revocation: the admin's client). */
    readonly ipAddress: string | null = null,
    readonly userAgent: string | null = null,
    /** Why, in a few words (a revocation reason, a failure cause). Never a secret. */
    readonly detail: string | null = null,
    /** Who made it happen when that was someone (an admin revoking, the user logging out); null for the system. */
    readonly actorId: string | null = null,
  ) {}
}

/**
 * Presence events (not lifecycle events: not in the audit trail), emitted with
 * `{ userId, sessionId, at }` when a session's first socket opens anywhere and when its last one
 * closes (or its instance stops renewing it).
 */
export const SESSION_ONLINE = 'session.online';
export const SESSION_OFFLINE = 'session.offline';
