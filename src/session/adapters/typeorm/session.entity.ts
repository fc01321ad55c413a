import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The `sessions` table. Schema changes go through migrations (`migrations/`), never
 * `synchronize`; the indexes here mirror the ones the migration creates.
 */
@Entity({ name: 'sessions' })
@Index('sessions_user_activity_live_idx', ['userId', 'lastActivityAt'], {
  where: 'revoked_at IS NULL',
})
@Index('sessions_expires_at_idx', ['expiresAt'])
@Index('sessions_last_activity_at_idx', ['lastActivityAt'])
@Index('sessions_revoked_at_idx', ['revokedAt'], { where: 'revoked_at IS NOT NULL' })
@Index('sessions_open_expires_idx', ['expiresAt'], { where: 'ended_at IS NULL AND revoked_at IS NULL' })
@Index('sessions_open_activity_idx', ['lastActivityAt'], { where: 'ended_at IS NULL AND revoked_at IS NULL' })
@Index('sessions_created_at_idx', ['createdAt'])
@Index('sessions_ended_at_idx', ['endedAt'], { where: 'ended_at IS NOT NULL' })
export class SessionEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 128 })
  userId!: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  roles!: string[];

  @Index('sessions_access_hash_key', { unique: true })
  @Column({ name: 'access_hash', type: 'varchar', length: 64 })
  accessHash!: string;

  @Index('sessions_refresh_hash_key', { unique: true })
  @Column({ name: 'refresh_hash', type: 'varchar', length: 64 })
  refreshHash!: string;

  @Column({ name: 'previous_refresh_hash', type: 'varchar', length: 64, nullable: true })
  previousRefreshHash!: string | null;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt!: Date | null;

  @Column({ name: 'access_expires_at', type: 'timestamptz' })
  accessExpiresAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'absolute_expires_at', type: 'timestamptz' })
  absoluteExpiresAt!: Date;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'authenticated_at', type: 'timestamptz' })
  authenticatedAt!: Date;

  @Column({ name: 'last_activity_at', type: 'timestamptz' })
  lastActivityAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 32, nullable: true })
  revokedReason!: string | null;

  /** When the session ended: set on revocation, and by the expiry sweep once its time ran out. */
  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt!: Date | null;

  @Column({ name: 'ip_address', type: 'varchar', length: 64, nullable: true })
  ipAddress!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ name: 'device_name', type: 'varchar', length: 128, nullable: true })
  deviceName!: string | null;

  @Column({ name: 'device_type', type: 'varchar', length: 32, nullable: true })
  deviceType!: string | null;

  @Column({ name: 'device_id', type: 'varchar', length: 128, nullable: true })
  deviceId!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  data!: Record<string, unknown> | null;

  @Column({ type: 'integer', default: 1 })
  version!: number;
}
