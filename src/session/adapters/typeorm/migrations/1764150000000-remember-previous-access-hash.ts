import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A session remembers the access hash its last rotation replaced, so a call that ends the session
 * while a rotation of it is under way (a logout during a refresh) marks that token revoked too,
 * without a second query. Sessions rotated before this migration have none: their last rotation's
 * call has long marked it.
 */
export class RememberPreviousAccessHash1764150000000 implements MigrationInterface {
  name = 'RememberPreviousAccessHash1764150000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ADD COLUMN "previous_access_hash" varchar(64)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "previous_access_hash"`);
  }
}
