import { DataSource } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { TypeOrmLogger } from '../../database/typeorm-logger';
import { emailSkeleton } from '../email-skeleton';
import { CreateUsers1763700000000 } from './1763700000000-create-users';
import { AddEmailSkeleton1764250000000 } from './1764250000000-add-email-skeleton';

/** The backfill on a users table as the old code left it, in an in-memory PGlite. */
describe('AddEmailSkeleton migration', () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await new DataSource({
      type: 'postgres',
      driver: new PGliteDriver().driver,
      installExtensions: false,
      logger: new TypeOrmLogger(),
    }).initialize();
  }, 30_000);
  afterAll(() => dataSource.destroy());

  async function freshTable(emails: string[]): Promise<void> {
    await dataSource.query('DROP TABLE IF EXISTS users');
    await new CreateUsers1763700000000().up(dataSource.createQueryRunner());
    // 0.3 ms apart, as a busy registration page makes them: several in one millisecond, which a
    // cursor that went through a JavaScript Date (no microseconds) would read again and again.
    for (const [i, email] of emails.entries()) {
      await dataSource.query(`INSERT INTO users (email, password_hash, created_at) VALUES ($1, 'h', now() + make_interval(secs => $2))`, [email, i * 0.0003]);
    }
  }

  const up = (migration: AddEmailSkeleton1764250000000) => migration.up(dataSource.createQueryRunner());

  const rows = () =>
    dataSource.query<Array<{ email: string; email_skeleton: string | null }>>('SELECT email, email_skeleton FROM users ORDER BY created_at');

  it('sets every skeleton across batches; the oldest of look-alikes keeps it, the others none', async () => {
    // Stored by the old code (lower-cased only): a full-width and a Cyrillic look-alike of admin, a decomposed é.
    await freshTable(['admin@example.com', 'bob@example.com', '\uff41dmin@example.com', 'ren\u0065\u0301@example.com', '\u0430dmin@example.com', 'carol@example.com']);
    // Three a batch: the first holds admin and its full-width look-alike, the second the Cyrillic one.
    await up(new AddEmailSkeleton1764250000000(3));
    expect(await rows()).toEqual([
      { email: 'admin@example.com', email_skeleton: emailSkeleton('admin@example.com') },
      { email: 'bob@example.com', email_skeleton: emailSkeleton('bob@example.com') },
      // Its normalized form is taken: kept as it was, and left without a skeleton.
      { email: '\uff41dmin@example.com', email_skeleton: null },
      // Brought to NFKC (composed é).
      { email: 'ren\u00e9@example.com', email_skeleton: emailSkeleton('ren\u00e9@example.com') },
      { email: '\u0430dmin@example.com', email_skeleton: null },
      { email: 'carol@example.com', email_skeleton: emailSkeleton('carol@example.com') },
    ]);
  });

  it('normalizes an older look-alike whose form is free, and a newer exact one loses the skeleton', async () => {
    await freshTable(['\uff41bc@example.com', 'a\uff42c@example.com', 'abc@example.com']);
    await up(new AddEmailSkeleton1764250000000(1));
    expect(await rows()).toEqual([
      // The normalized form "abc@example.com" belongs to a newer account: kept, but it holds the skeleton.
      { email: '\uff41bc@example.com', email_skeleton: emailSkeleton('abc@example.com') },
      { email: 'a\uff42c@example.com', email_skeleton: null },
      { email: 'abc@example.com', email_skeleton: null },
    ]);
  });

  it('the unique index refuses a second account with a skeleton taken', async () => {
    await freshTable(['dave@example.com']);
    await up(new AddEmailSkeleton1764250000000());
    await expect(
      dataSource.query(`INSERT INTO users (email, password_hash, email_skeleton) VALUES ('d\u0430ve@example.com', 'h', $1)`, [emailSkeleton('dave@example.com')]),
    ).rejects.toThrow(/users_email_skeleton_key/);
  });

  it('down drops the column and its index', async () => {
    await freshTable(['erin@example.com']);
    const migration = new AddEmailSkeleton1764250000000();
    await migration.up(dataSource.createQueryRunner());
    await migration.down(dataSource.createQueryRunner());
    expect(await dataSource.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email_skeleton'`)).toEqual([]);
  });
});
