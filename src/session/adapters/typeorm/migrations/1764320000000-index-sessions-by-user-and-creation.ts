import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user's sessions newest first, by one index range: what the new-device check at login reads
 * (`SessionStore.recentClients`: the user's sessions created since the lookback, at most N rows,
 * live or ended). The existing per-user index is partial (live sessions only) and ordered by
 * activity, so it cannot answer this.
 */
export class IndexSessionsByUserAndCreation1764320000000 implements MigrationInterface {
  name = 'IndexSessionsByUserAndCreation1764320000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "sessions_user_created_idx" ON "sessions" ("user_id", "created_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "sessions_user_created_idx"`);
  }
}
