import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSessions1763800000000 implements MigrationInterface {
  name = 'CreateSessions1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "sessions" (
        "id" uuid PRIMARY KEY,
        "user_id" varchar(128) NOT NULL,
        "roles" text[] NOT NULL DEFAULT '{}',
        "access_hash" varchar(64) NOT NULL,
        "refresh_hash" varchar(64) NOT NULL,
        "previous_refresh_hash" varchar(64),
        "rotated_at" timestamptz,
        "access_expires_at" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "absolute_expires_at" timestamptz NOT NULL,
        "created_at" timestamptz NOT NULL,
        "authenticated_at" timestamptz NOT NULL,
        "last_activity_at" timestamptz NOT NULL,
        "revoked_at" timestamptz,
        "revoked_reason" varchar(32),
        "ip_address" varchar(64),
        "user_agent" varchar(512),
        "device_name" varchar(128),
        "device_type" varchar(32),
        "device_id" varchar(128),
        "data" jsonb,
        "version" integer NOT NULL DEFAULT 1
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "sessions_access_hash_key" ON "sessions" ("access_hash")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "sessions_refresh_hash_key" ON "sessions" ("refresh_hash")`,
    );
    await queryRunner.query(
      `CREATE INDEX "sessions_previous_refresh_hash_idx" ON "sessions" ("previous_refresh_hash") WHERE previous_refresh_hash IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "sessions_user_activity_live_idx" ON "sessions" ("user_id", "last_activity_at") WHERE revoked_at IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX "sessions_expires_at_idx" ON "sessions" ("expires_at")`);
    await queryRunner.query(
      `CREATE INDEX "sessions_last_activity_at_idx" ON "sessions" ("last_activity_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "sessions_revoked_at_idx" ON "sessions" ("revoked_at") WHERE revoked_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "sessions"`);
  }
}
