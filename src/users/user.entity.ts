import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The app's users. `email` is stored normalized (`normalizeEmail`: NFKC, lower-cased); the
 * password only as an argon2id hash.
 */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 254, unique: true })
  email!: string;

  /**
   * `emailSkeleton(email)`, unique (index `users_email_skeleton_key`): no two accounts look alike.
   * Null only for an account that already looked like an older one when the column was added.
   */
  @Column({ name: 'email_skeleton', type: 'text', nullable: true })
  emailSkeleton!: string | null;

  @Column({ name: 'password_hash', type: 'varchar', length: 255 })
  passwordHash!: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  name!: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  roles!: string[];

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
