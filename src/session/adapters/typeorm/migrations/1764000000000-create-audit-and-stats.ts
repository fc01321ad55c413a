import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What operators look at: when each session ended (`ended_at`, set by revocation and by the
 * expiry sweep), indexes that keep the statistics off full scans, the audit trail, and samples
 * of concurrent sessions for the peak.
 */
export class CreateAuditAndStats1764000000000 implements MigrationInterface {
  name = 'CreateAuditAndStats1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ADD COLUMN "ended_at" timestamptz`);
    // Revoked sessions ended when they were revoked; ones that ran out of time are found by the
    // expiry sweep, which knows the idle lifetime this migration does not.
    await queryRunner.query(`UPDATE "sessions" SET "ended_at" = "revoked_at" WHERE "revoked_at" IS NOT NULL`);
    // Sessions not yet known to have ended: the sweep's two range scans and the count of live
    // sessions (index-only, thanks to the INCLUDE) read these small indexes, never the ended rows.
    await queryRunner.query(
      `CREATE INDEX "sessions_open_expires_idx" ON "sessions" ("expires_at") WHERE ended_at IS NULL AND revoked_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "sessions_open_activity_idx" ON "sessions" ("last_activity_at") INCLUDE ("expires_at") WHERE ended_at IS NULL AND revoked_at IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX "sessions_created_at_idx" ON "sessions" ("created_at")`);
    await queryRunner.query(
      `CREATE INDEX "sessions_ended_at_idx" ON "sessions" ("ended_at") WHERE ended_at IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE "session_audit" (
        "id" bigserial PRIMARY KEY,
        "type" varchar(32) NOT NULL,
        "at" timestamptz NOT NULL,
        "user_id" varchar(128),
        "session_id" uuid,
        "actor_id" varchar(128),
        "ip_address" varchar(64),
        "user_agent" varchar(512),
        "detail" varchar(256)
      )`);
    await queryRunner.query(`CREATE INDEX "session_audit_at_idx" ON "session_audit" ("at")`);
    await queryRunner.query(`CREATE INDEX "session_audit_user_at_idx" ON "session_audit" ("user_id", "at")`);
    await queryRunner.query(`CREATE INDEX "session_audit_type_at_idx" ON "session_audit" ("type", "at")`);
    await queryRunner.query(`
      CREATE TABLE "session_concurrency_samples" (
        "at" timestamptz PRIMARY KEY,
        "active" integer NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "session_concurrency_samples"`);
    await queryRunner.query(`DROP TABLE "session_audit"`);
    await queryRunner.query(`DROP INDEX "sessions_ended_at_idx"`);
    await queryRunner.query(`DROP INDEX "sessions_created_at_idx"`);
    await queryRunner.query(`DROP INDEX "sessions_open_activity_idx"`);
    await queryRunner.query(`DROP INDEX "sessions_open_expires_idx"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "ended_at"`);
  }
}
