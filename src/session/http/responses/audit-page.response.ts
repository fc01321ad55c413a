import { ApiProperty } from '../openapi/swagger.js';
import { SESSION_EVENT_TYPES, type SessionEventType } from '../../session.events.js';

/** One entry of the audit trail. */
export class AuditEntryResponse {
  @ApiProperty({ enum: SESSION_EVENT_TYPES, example: 'revoked' })
  type!: SessionEventType;

  @ApiProperty({ type: String, nullable: true, description: 'Whose session or account; null for a login attempt on an unknown email.' })
  userId!: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  sessionId!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Who made it happen (the user, an admin); null for the system.' })
  actorId!: string | null;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ipAddress!: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Why: a revocation reason, a failure cause.', example: 'revoked_by_admin' })
  detail!: string | null;
}

/** `GET /admin/audit`. */
export class AuditPageResponse {
  @ApiProperty({ type: [AuditEntryResponse], description: 'Newest first.' })
  items!: AuditEntryResponse[];

  @ApiProperty({ example: 1 })
  total!: number;

  @ApiProperty({ example: 1 })
  page!: number;

  @ApiProperty({ example: 20 })
  limit!: number;
}
