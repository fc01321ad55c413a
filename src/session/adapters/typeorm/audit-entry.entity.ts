import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One lifecycle event in the audit trail (`session_audit`); created by a migration. */
@Entity({ name: 'session_audit' })
@Index('session_audit_at_idx', ['at'])
@Index('session_audit_user_at_idx', ['userId', 'at'])
@Index('session_audit_type_at_idx', ['type', 'at'])
export class AuditEntryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: string;

  @Column({ type: 'timestamptz' })
  at!: Date;

  @Column({ name: 'user_id', type: 'varchar', length: 128, nullable: true })
  userId!: string | null;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId!: string | null;

  @Column({ name: 'actor_id', type: 'varchar', length: 128, nullable: true })
  actorId!: string | null;

  @Column({ name: 'ip_address', type: 'varchar', length: 64, nullable: true })
  ipAddress!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  detail!: string | null;
}
