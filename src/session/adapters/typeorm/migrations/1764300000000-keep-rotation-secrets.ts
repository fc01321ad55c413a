import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each rotation draws a random secret and derives the new pair from the presented refresh token
 * and that secret (`deriveToken`); the session keeps the last one, so a retry within the grace
 * window gets the same pair, while the signing key and an old refresh token alone no longer
 * compute a session's current pair. Sessions rotated before this migration have none: the token
 * they rotated away last counts as reuse, even within the grace window (at most
 * `SESSION_REFRESH_GRACE` seconds after the deploy are affected).
 */
export class KeepRotationSecrets1764300000000 implements MigrationInterface {
  name = 'KeepRotationSecrets1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ADD COLUMN "rotation_secret" varchar(64)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "rotation_secret"`);
  }
}
