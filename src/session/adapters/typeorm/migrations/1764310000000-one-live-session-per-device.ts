import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user has at most one live session per device id (the contract): a partial unique index over
 * the sessions that have not ended, which `TypeOrmSessionStore.insert` keeps by ending the older
 * one in the statement that inserts the new one. The index, not a lock, is what makes two logins
 * racing with one device id leave one session: the second INSERT fails on it and is run again,
 * ending the first. Sessions that already broke the rule are ended first (the newest of each
 * user and device id stays), as `replaced`; running instances mark them revoked in the cache
 * by `ended_at`, like any other end they were not told about.
 */
export class OneLiveSessionPerDevice1764310000000 implements MigrationInterface {
  name = 'OneLiveSessionPerDevice1764310000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      UPDATE "sessions" s
         SET "revoked_at" = now(), "revoked_reason" = 'replaced', "ended_at" = now(), "version" = s."version" + 1
       WHERE s."device_id" IS NOT NULL AND s."revoked_at" IS NULL AND s."ended_at" IS NULL
         AND EXISTS (
           SELECT 1 FROM "sessions" n
            WHERE n."user_id" = s."user_id" AND n."device_id" = s."device_id"
              AND n."revoked_at" IS NULL AND n."ended_at" IS NULL
              AND (n."created_at", n."id") > (s."created_at", s."id"))`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "sessions_user_device_live_key" ON "sessions" ("user_id", "device_id") WHERE device_id IS NOT NULL AND revoked_at IS NULL AND ended_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "sessions_user_device_live_key"`);
  }
}
