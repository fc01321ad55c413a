import type { SessionEvent, SessionEventType } from '../session.events.js';

/** Which entries a page of the audit trail holds. */
export interface AuditQuery {
  userId?: string;
  type?: SessionEventType;
  offset: number;
  limit: number;
}

/** How many entries of one type a user has (see `AuditLog.countByUserSince`). */
export interface UserCount {
  userId: string;
  count: number;
}

export interface AuditPage {
  /** Newest first. */
  items: SessionEvent[];
  total: number;
}

/**
 * The audit trail: every lifecycle event, kept for the retention period. Appended in batches
 * off the request path (see `SessionEventPublisher`); text longer than a column holds is cut,
 * never refused, so one odd user agent cannot lose a batch.
 *
 * Adapters: `TypeOrmAuditLog` (table `session_audit`), `MemoryAuditLog`. Both pass
 * `test/contract/audit-log.contract.ts`.
 */
export abstract class AuditLog {
  /** Stores these events, in one statement. */
  abstract append(events: readonly SessionEvent[]): Promise<void>;

  /** A page of entries, optionally of one user and one type, newest first. */
  abstract page(query: AuditQuery): Promise<AuditPage>;

  /** How many entries of each of these types happened after `since` (types with none count 0). */
  abstract countSince(types: readonly SessionEventType[], since: Date): Promise<Record<SessionEventType, number>>;

  /**
   * The users with the most entries of `type` after `since`, most first (ties by user id, compared
   * by code unit), at most `limit` of them; entries without a user are not counted (failed logins
   * per account, for instance, leave out those against unknown emails).
   */
  abstract countByUserSince(type: SessionEventType, since: Date, limit: number): Promise<UserCount[]>;

  /**
   * How many entries of `type` after `since` have a detail that starts with `detailPrefix`
   * (sessions migrated from a legacy store: `login` entries whose detail is `migrated from …`).
   */
  abstract countWithDetailSince(type: SessionEventType, detailPrefix: string, since: Date): Promise<number>;

  /**
   * Deletes up to `batchSize` entries older than `before`.
   * @returns how many; call again until it returns less than `batchSize`
   */
  abstract deleteBefore(before: Date, batchSize: number): Promise<number>;
}

/** Column widths of the trail; adapters cut longer text to these. */
export const AUDIT_TEXT_LIMITS = { userId: 128, actorId: 128, ipAddress: 64, userAgent: 512, detail: 256 } as const;

/** The event with every text field cut to what the trail keeps (and no NUL, which PostgreSQL text refuses). */
export function fitForAudit(event: SessionEvent): SessionEvent {
  const cut = (value: string | null, max: number) => (value === null ? null : value.replace(/\0/g, '').slice(0, max));
  return {
    type: event.type,
    at: event.at,
    userId: cut(event.userId, AUDIT_TEXT_LIMITS.userId),
    sessionId: event.sessionId,
    ipAddress: cut(event.ipAddress, AUDIT_TEXT_LIMITS.ipAddress),
    userAgent: cut(event.userAgent, AUDIT_TEXT_LIMITS.userAgent),
    detail: cut(event.detail, AUDIT_TEXT_LIMITS.detail),
    actorId: cut(event.actorId, AUDIT_TEXT_LIMITS.actorId),
  };
}
