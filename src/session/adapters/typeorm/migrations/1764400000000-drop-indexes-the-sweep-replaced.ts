import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops the two full indexes on `expires_at` and `last_activity_at`. Every UPDATE of a session
 * that cannot be HOT (a rotation changes the indexed token hashes; an activity touch changes
 * `last_activity_at`) writes an entry into each index of `sessions`, so each index costs every
 * rotation and every touch. Only the cleanup's `deleteEnded` read these two; it now finds its rows
 * by `ended_at` (set by revocation and by the expiry sweep), by `revoked_at`, and, for sessions
 * the sweep has not recorded yet, by the partial `sessions_open_expires_idx` and
 * `sessions_open_activity_idx`, which hold only sessions that have not ended.
 */
export class DropIndexesTheSweepReplaced1764400000000 implements MigrationInterface {
  name = 'DropIndexesTheSweepReplaced1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "sessions_expires_at_idx"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "sessions_last_activity_at_idx"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "sessions_expires_at_idx" ON "sessions" ("expires_at")`);
    await queryRunner.query(`CREATE INDEX "sessions_last_activity_at_idx" ON "sessions" ("last_activity_at")`);
  }
}
