import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every rotation also remembers the access hash it replaced, so a cache that could not be told
 * (Redis split away, or restored from a snapshot) can be given the mark from PostgreSQL later:
 * an old access token stays refused whatever Redis went through. Rows of earlier rotations have
 * none (their access tokens have long expired).
 */
export class RememberRotatedAccessHashes1764100000000 implements MigrationInterface {
  name = 'RememberRotatedAccessHashes1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "session_rotated_refresh_tokens" ADD COLUMN "access_hash" varchar(64)`);
    // The reconciliation's range: rotations since a moment, oldest first.
    await queryRunner.query(
      `CREATE INDEX "session_rotated_refresh_tokens_rotated_idx" ON "session_rotated_refresh_tokens" ("rotated_at", "access_hash") WHERE access_hash IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "session_rotated_refresh_tokens_rotated_idx"`);
    await queryRunner.query(`ALTER TABLE "session_rotated_refresh_tokens" DROP COLUMN "access_hash"`);
  }
}
