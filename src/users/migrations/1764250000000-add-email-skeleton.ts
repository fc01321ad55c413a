import { Logger } from '@nestjs/common';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { normalizeEmail } from '../../session';
import { emailSkeleton } from '../email-skeleton';

interface UserRow {
  id: string;
  email: string;
}

/**
 * Adds `users.email_skeleton` with a unique index, so no two accounts look alike (Unicode TS #39),
 * even when two registrations race; and brings existing rows to the normalized email form.
 *
 * The skeleton needs Unicode's confusables table, which PostgreSQL does not have: it is computed
 * here, in batches keyset-paged on (created_at, id), oldest account first. Backfilling now (not
 * lazily, at each account's next login) means the index guards every account from the moment
 * the migration commits. Where existing accounts already look alike, the oldest keeps the
 * skeleton and the others are left without one (logged by id, for an admin to review); an
 * email whose normalized form is taken by another account keeps its old form (and is logged).
 * The index is built first, on an all-null column, so each batch checks the earlier ones through it.
 */
export class AddEmailSkeleton1764250000000 implements MigrationInterface {
  name = 'AddEmailSkeleton1764250000000';

  /** @param batchSize rows read and written per statement */
  constructor(private readonly batchSize = 1000) {}

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "email_skeleton" text`);
    // A skeleton is at most 7 times the UTF-8 bytes of its address, which validation bounds to 319:
    // under the 2,704 bytes a B-tree entry may hold.
    await queryRunner.query(`CREATE UNIQUE INDEX "users_email_skeleton_key" ON "users" ("email_skeleton")`);
    const skipped = { lookAlike: [] as string[], emailTaken: [] as string[] };
    // The cursor's time as text: a JavaScript Date would drop the microseconds, and the last row
    // of a batch would come back in the next one.
    let after = null as { at: string; id: string } | null;
    for (;;) {
      const rows: Array<UserRow & { at: string }> = await queryRunner.query(
        `SELECT id, email, created_at::text AS at FROM "users"
          WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid)
          ORDER BY created_at, id LIMIT $3`,
        [after?.at ?? null, after?.id ?? null, this.batchSize],
      );
      if (rows.length === 0) break;
      const last = rows[rows.length - 1];
      // A start that fails beats one that never ends.
      if (last.id === after?.id) throw new Error(`${this.name}: the cursor did not move past user ${last.id}`);
      await this.backfill(queryRunner, rows, skipped);
      after = { at: last.at, id: last.id };
    }
    const logger = new Logger(AddEmailSkeleton1764250000000.name);
    if (skipped.lookAlike.length > 0) logger.warn(`Accounts that look like an older account, left without a skeleton: ${listed(skipped.lookAlike)}`);
    if (skipped.emailTaken.length > 0) logger.warn(`Accounts whose normalized email another account has, left as they were: ${listed(skipped.emailTaken)}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "users_email_skeleton_key"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "email_skeleton"`);
  }

  /** Sets the skeleton (and the normalized email, where free) of one batch; notes what it skipped. */
  private async backfill(
    queryRunner: QueryRunner,
    rows: UserRow[],
    skipped: { lookAlike: string[]; emailTaken: string[] },
  ): Promise<void> {
    const inBatch = new Set<string>();
    const ids: string[] = [];
    const emails: string[] = [];
    const skeletons: string[] = [];
    for (const row of rows) {
      const email = normalizeEmail(row.email);
      const skeleton = emailSkeleton(email);
      if (inBatch.has(skeleton)) {
        skipped.lookAlike.push(row.id);
        continue;
      }
      inBatch.add(skeleton);
      ids.push(row.id);
      emails.push(email);
      skeletons.push(skeleton);
    }
    const { records: updated } = (await queryRunner.query(
      `UPDATE "users" u
          SET email_skeleton = v.skeleton,
              email = CASE WHEN EXISTS (SELECT 1 FROM "users" o WHERE o.email = v.email AND o.id <> u.id) THEN u.email ELSE v.email END
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, email, skeleton)
        WHERE u.id = v.id AND NOT EXISTS (SELECT 1 FROM "users" s WHERE s.email_skeleton = v.skeleton)
        RETURNING u.id, u.email <> v.email AS email_kept`,
      [ids, emails, skeletons],
      true,
    )) as { records: Array<{ id: string; email_kept: boolean }> };
    const done = new Set(updated.map((row) => row.id));
    skipped.lookAlike.push(...ids.filter((id) => !done.has(id)));
    skipped.emailTaken.push(...updated.filter((row) => row.email_kept).map((row) => row.id));
  }
}

/** Ids for a log line: the count, and the first 100. */
function listed(ids: string[]): string {
  return `${ids.length} (${ids.slice(0, 100).join(', ')}${ids.length > 100 ? ', …' : ''})`;
}
