import type { RevocationReason, SessionRecord } from '../../ports/session-record.js';

/** A `sessions` row as `pg` returns it from raw SQL. */
export interface SessionRow {
  id: string;
  user_id: string;
  roles: string[] | string;
  access_hash: string;
  refresh_hash: string;
  previous_refresh_hash: string | null;
  previous_access_hash: string | null;
  rotated_at: Date | string | null;
  rotation_secret: string | null;
  access_expires_at: Date | string;
  expires_at: Date | string;
  absolute_expires_at: Date | string;
  created_at: Date | string;
  authenticated_at: Date | string;
  last_activity_at: Date | string;
  revoked_at: Date | string | null;
  revoked_reason: string | null;
  ended_at: Date | string | null;
  ip_address: string | null;
  user_agent: string | null;
  device_name: string | null;
  device_type: string | null;
  device_id: string | null;
  data: Record<string, unknown> | string | null;
  version: number;
}

const date = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));
const maybeDate = (value: Date | string | null): Date | null => (value === null ? null : date(value));

/** Postgres array literal `{a,b}` when a driver hands arrays back as text. */
function parseRoles(value: string[] | string): string[] {
  if (Array.isArray(value)) return value;
  const inner = value.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map((r) => r.replace(/^"|"$/g, '')) : [];
}

export function toSessionRecord(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    roles: parseRoles(row.roles),
    accessHash: row.access_hash,
    refreshHash: row.refresh_hash,
    previousRefreshHash: row.previous_refresh_hash,
    previousAccessHash: row.previous_access_hash ?? null,
    rotatedAt: maybeDate(row.rotated_at),
    rotationSecret: row.rotation_secret,
    accessExpiresAt: date(row.access_expires_at),
    expiresAt: date(row.expires_at),
    absoluteExpiresAt: date(row.absolute_expires_at),
    createdAt: date(row.created_at),
    authenticatedAt: date(row.authenticated_at),
    lastActivityAt: date(row.last_activity_at),
    revokedAt: maybeDate(row.revoked_at),
    revokedReason: row.revoked_reason as RevocationReason | null,
    endedAt: maybeDate(row.ended_at),
    ipAddress: row.ip_address,
    userAgent: row.user_agent,
    deviceName: row.device_name,
    deviceType: row.device_type,
    deviceId: row.device_id,
    data: typeof row.data === 'string' ? (JSON.parse(row.data) as Record<string, unknown>) : row.data,
    version: Number(row.version),
  };
}
