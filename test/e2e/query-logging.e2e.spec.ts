import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CapturedLogs, resetDatabase, RunningApp, startApp } from '../support/app-harness';

/** Everything written to standard output or the console while `run` runs. */
async function consoleOutput(run: () => Promise<void>): Promise<string[]> {
  const written: string[] = [];
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true)),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void written.push(args.map(String).join(' '))),
    ),
  ];
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written;
}

/**
 * Failed statements (issue 11, finding 3): TypeORM's own logger printed each one with its
 * parameters (an address and an argon2id hash) to standard output as a plain-text line, past
 * the pino redaction. Now they are JSON lines of the app's logger with the SQL and no parameter.
 */
describe('failed queries in the logs', () => {
  let running: RunningApp;
  const logs = new CapturedLogs();
  const secret = `secret-${randomBytes(8).toString('hex')}`;
  const failures = () => logs.records().filter((line) => line.context === 'TypeORM' && line.msg === 'query failed');

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp({}, logs);
  });
  afterAll(() => running.close());

  it('logs a failed statement as a JSON error with its SQL, never its parameters nor a value its message quotes', async () => {
    const dataSource = running.app.get(DataSource);
    const written = await consoleOutput(async () => {
      // PostgreSQL's message quotes the value: invalid input syntax for type integer: "secret-…".
      await expect(dataSource.query('SELECT $1::int AS n', [secret])).rejects.toThrow();
      // A duplicate key: PostgreSQL's detail names the value.
      const insert = () => dataSource.query(`INSERT INTO users (email, password_hash) VALUES ($1, $2)`, [`${secret}@example.com`, secret]);
      await insert();
      await expect(insert()).rejects.toThrow();
    });
    expect(written.filter((chunk) => !isJson(chunk))).toEqual([]);
    expect(failures()).toEqual([
      expect.objectContaining({ level: 50, sql: 'SELECT $1::int AS n', code: '22P02', error: expect.stringContaining('invalid input syntax') }),
      expect.objectContaining({ level: 50, code: '23505', constraint: 'users_email_key', sql: expect.stringContaining('INSERT INTO users') }),
    ]);
    expect(logs.lines.join('')).not.toContain(secret);
  });

  it('a user row the database refuses logs neither its address nor its password hash', async () => {
    // What a gap in the validation would let through: an email the users table's check refuses.
    const dataSource = running.app.get(DataSource);
    const written = await consoleOutput(async () => {
      await expect(
        dataSource.query(`INSERT INTO users (email, password_hash) VALUES ($1, $2)`, [`${secret.toUpperCase()}@EXAMPLE.COM`, `$argon2id$${secret}`]),
      ).rejects.toThrow();
    });
    expect(written.filter((chunk) => !isJson(chunk))).toEqual([]);
    expect(failures().at(-1)).toMatchObject({ code: '23514', constraint: 'users_email_lower' });
    expect(logs.lines.join('').toLowerCase()).not.toContain(secret);
  });
});

function isJson(chunk: string): boolean {
  try {
    JSON.parse(chunk);
    return true;
  } catch {
    return false;
  }
}
