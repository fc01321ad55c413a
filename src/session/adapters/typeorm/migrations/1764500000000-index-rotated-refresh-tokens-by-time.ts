import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Replaces the partial index of rotations by time (`session_rotated_refresh_tokens_rotated_idx`,
 * only rows with an access hash) by a full one on the same columns, so that the cleanup finds
 * the rows to prune (`SessionStore.deleteRotatedBefore`: rotated before the cleanup's cut-off,
 * now − `refreshTtl` by default, the old rows without an access hash too) by one index range, and the reconciliation
 * (`revokedAccessSince`) still reads its range from it. Every row a rotation inserts has an access
 * hash, so the partial index held it already: a rotation writes the same three index entries in
 * this table as before (the primary key, the session id, this one).
 *
 * The CREATE INDEX blocks writes to the table (rotations) while it builds. Where the table is
 * large, build the index beforehand without blocking, outside a transaction, with exactly this
 * definition:
 *
 *   CREATE INDEX CONCURRENTLY "session_rotated_refresh_tokens_rotated_at_idx"
 *     ON "session_rotated_refresh_tokens" ("rotated_at", "access_hash");
 *
 * The migration's CREATE INDEX IF NOT EXISTS then finds it, and the migration only drops the
 * partial one.
 */
export class IndexRotatedRefreshTokensByTime1764500000000 implements MigrationInterface {
  name = 'IndexRotatedRefreshTokensByTime1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS "session_rotated_refresh_tokens_rotated_at_idx" ON "session_rotated_refresh_tokens" ("rotated_at", "access_hash")`,
    );
    await queryRunner.query(`DROP INDEX IF EXISTS "session_rotated_refresh_tokens_rotated_idx"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "session_rotated_refresh_tokens_rotated_idx" ON "session_rotated_refresh_tokens" ("rotated_at", "access_hash") WHERE access_hash IS NOT NULL`,
    );
    await queryRunner.query(`DROP INDEX "session_rotated_refresh_tokens_rotated_at_idx"`);
  }
}
