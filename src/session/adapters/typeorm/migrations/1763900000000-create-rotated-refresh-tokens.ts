import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every refresh token a session rotated away, so presenting any of them again is caught as reuse. */
export class CreateRotatedRefreshTokens1763900000000 implements MigrationInterface {
  name = 'CreateRotatedRefreshTokens1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "session_rotated_refresh_tokens" (
        "hash" varchar(64) PRIMARY KEY,
        "session_id" uuid NOT NULL REFERENCES "sessions" ("id") ON DELETE CASCADE,
        "rotated_at" timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX "session_rotated_refresh_tokens_session_idx" ON "session_rotated_refresh_tokens" ("session_id")`,
    );
    // Superseded by the table: every rotated-away hash, not only the last, is now findable.
    await queryRunner.query(`DROP INDEX IF EXISTS "sessions_previous_refresh_hash_idx"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "sessions_previous_refresh_hash_idx" ON "sessions" ("previous_refresh_hash") WHERE previous_refresh_hash IS NOT NULL`,
    );
    await queryRunner.query(`DROP TABLE "session_rotated_refresh_tokens"`);
  }
}
