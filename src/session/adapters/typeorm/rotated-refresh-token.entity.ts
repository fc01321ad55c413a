import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A refresh token hash a session rotated away (`session_rotated_refresh_tokens`). */
@Entity({ name: 'session_rotated_refresh_tokens' })
export class RotatedRefreshTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  hash!: string;

  @Index('session_rotated_refresh_tokens_session_idx')
  @Column({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @Column({ name: 'rotated_at', type: 'timestamptz' })
  rotatedAt!: Date;
}
