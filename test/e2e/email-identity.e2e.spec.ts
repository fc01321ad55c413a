import { BadRequestException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { UsersService } from '../../src/users/users.service';
import { CapturedLogs, login, resetDatabase, RunningApp, sql, startApp } from '../support/app-harness';

const PASSWORD = 'long enough password';
const TAKEN = { statusCode: 409, message: 'Email already registered', error: 'Conflict' };

/** A fresh local part made of letters only, so look-alikes of it can be spelled. */
const freshLocal = (tag: string) => `${tag}${randomBytes(4).toString('hex').replace(/\d/g, (d) => 'ghijklmnop'[Number(d)])}`;

/**
 * Email identity (issue 11, findings 3 and 5): addresses are NFKC-normalized and lower-cased
 * before they are validated, stored and looked up; the length is checked on what is stored; an
 * address that looks like a registered one (same Unicode TS #39 skeleton) is taken; input the
 * validation let through never overflows a column (a 500).
 */
describe('email identity and bounded columns', () => {
  let running: RunningApp;
  const register = (body: Record<string, unknown>) => running.http.post('/auth/register').send(body);

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
  });
  afterAll(() => running.close());

  describe('finding 3: lower-casing never overflows the column', () => {
    it('400 for an address of 249 characters that lower-cases to 280 (İ), and no user', async () => {
      const local = 'İ'.repeat(31);
      const domain = `${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.${'g'.repeat(30)}.com`;
      const email = `${local}@${domain}`;
      expect(email.length).toBe(249);
      expect(email.toLowerCase().length).toBe(280);
      const res = await register({ email, password: PASSWORD });
      expect(res.status).toBe(400);
      // Refused by the validation, which sees the normalized address (its local part is now 93 bytes).
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.arrayContaining(['email must be an email address']) });
      expect(await sql('SELECT 1 FROM users WHERE email LIKE $1', ['%.com'])).toEqual([]);
    });

    it('400 for an address under 254 characters whose NFKC form is longer (ligatures)', async () => {
      // ﬃ (U+FB03) is one character of 3 bytes and normalizes to "ffi": 21 of them fill 63 of the 64 bytes a local part may have.
      const email = `${'ﬃ'.repeat(21)}@${'h'.repeat(60)}.${'i'.repeat(60)}.${'j'.repeat(60)}.${'k'.repeat(20)}.com`;
      expect(email.length).toBeLessThanOrEqual(254);
      expect(email.normalize('NFKC').length).toBeGreaterThan(254);
      const res = await register({ email, password: PASSWORD });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('email must be shorter than or equal to 254 characters');
    });

    it('201 for the same kind of address when its stored form fits, stored normalized', async () => {
      const local = `${freshLocal('ﬃ')}İ`;
      const res = await register({ email: `${local}@EXAMPLE.com`, password: PASSWORD }).expect(201);
      expect(res.body.email).toBe(`${local.normalize('NFKC').toLowerCase()}@example.com`);
    });

    it('400, not 500, for a name that counts 100 characters to the validator but more to PostgreSQL', async () => {
      // class-validator's length counts a character and its variation selector as one; PostgreSQL counts two.
      const name = 'a\uFE0F'.repeat(60);
      const res = await register({ email: `${freshLocal('name')}@example.com`, password: PASSWORD, name });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('name must be shorter than or equal to 100 characters');
    });

    it('201 for a name of exactly 100 characters with variation selectors', async () => {
      await register({ email: `${freshLocal('name')}@example.com`, password: PASSWORD, name: 'a\uFE0F'.repeat(50) }).expect(201);
    });

    it('a value the database refuses past validation is a 400 too (second line of defence)', async () => {
      const users = running.app.get(UsersService);
      const email = `${freshLocal('gap')}@example.com`;
      await expect(users.register({ email, password: PASSWORD, name: 'n'.repeat(101) })).rejects.toBeInstanceOf(BadRequestException);
      await expect(users.register({ email: `${'x'.repeat(250)}@e.com`, password: PASSWORD })).rejects.toBeInstanceOf(BadRequestException);
    });

    it('400, not 500, for a login deviceName that counts 128 characters to the validator but more to PostgreSQL', async () => {
      const email = `${freshLocal('device')}@example.com`;
      await register({ email, password: PASSWORD }).expect(201);
      const res = await running.http.post('/auth/login').send({ email, password: PASSWORD, deviceName: 'b\uFE0F'.repeat(100) });
      expect(res.status).toBe(400);
      const ok = await running.http.post('/auth/login').send({ email, password: PASSWORD, deviceName: 'b\uFE0F'.repeat(64) }).expect(200);
      const [row] = await sql<{ device_name: string }>('SELECT device_name FROM sessions WHERE id = $1', [ok.body.sessionId]);
      expect(row.device_name).toBe('b\uFE0F'.repeat(64));
    });
  });

  describe('finding 5: look-alike accounts', () => {
    let local: string;

    beforeAll(async () => {
      local = freshLocal('admin');
      await register({ email: `${local}@example.com`, password: PASSWORD }).expect(201);
    });

    it.each([
      ['full-width letters', (l: string) => l.replace('a', '\uFF41')],
      ['a Cyrillic а', (l: string) => l.replace('a', '\u0430')],
      ['a Cyrillic capital А', (l: string) => l.replace('a', '\u0410')],
      ['a Cyrillic а in the domain', (l: string) => l, 'ex\u0430mple.com'],
      ['a Greek ο in the domain', (l: string) => l, 'example.c\u03bfm'],
      ['"rn" for "m"', (l: string) => l.replace('m', 'rn')],
      ['a digit 0 for an o in the domain', (l: string) => l, 'example.c0m'],
      ['an invisible variation selector', (l: string) => `${l}\uFE0F`],
    ])('409 like a taken email for %s', async (_label, spell, domain = 'example.com') => {
      const res = await register({ email: `${spell(local)}@${domain}`, password: 'another password' });
      if (res.status !== 409) expect(res.status).toBe(400);
      else expect(res.body).toEqual(TAKEN);
    });

    it('the look-alike never becomes an account', async () => {
      expect(await sql('SELECT email FROM users WHERE email_skeleton = (SELECT email_skeleton FROM users WHERE email = $1)', [`${local}@example.com`])).toEqual([
        { email: `${local}@example.com` },
      ]);
    });

    it('login with full-width capitals reaches the account', async () => {
      const fullWidth = [...`${local}@example.com`.toUpperCase()].map((c) => (/[A-Z]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
      const res = await running.http.post('/auth/login').send({ email: fullWidth, password: PASSWORD }).expect(200);
      expect(res.body.user.email).toBe(`${local}@example.com`);
    });

    it('failed logins under different spellings of one account share one count', async () => {
      const fresh = freshLocal('spell');
      await register({ email: `${fresh}@example.com`, password: PASSWORD }).expect(201);
      const fullWidthAt = (i: number) => `${fresh.slice(0, i)}${String.fromCharCode(fresh.charCodeAt(i) + 0xfee0)}${fresh.slice(i + 1)}@example.com`;
      // Five free failures, a sixth starts the block: each under a spelling of its own.
      for (let i = 0; i < 6; i++) await running.http.post('/auth/login').send({ email: fullWidthAt(i), password: 'wrong guess' }).expect(401);
      await running.http.post('/auth/login').send({ email: `${fresh}@example.com`, password: PASSWORD }).expect(429);
    });

    it('an ADMIN_EMAIL that looks like an existing account is not seeded: an error is logged and the app runs', async () => {
      const fresh = freshLocal('boss');
      const squatter = `${fresh.replace('o', '\u043e')}@example.com`;
      await register({ email: squatter, password: PASSWORD }).expect(201);
      const logs = new CapturedLogs();
      const seeded = await startApp({ ADMIN_EMAIL: `${fresh}@example.com`, ADMIN_PASSWORD: 'admin password 1' }, logs);
      try {
        expect(logs.records()).toContainEqual(
          expect.objectContaining({ level: 50, context: 'AdminSeeder', msg: expect.stringContaining(`Admin user ${fresh}@example.com was not created`) }),
        );
        await seeded.http.post('/auth/login').send({ email: `${fresh}@example.com`, password: 'admin password 1' }).expect(401);
        expect(await sql('SELECT roles FROM users WHERE email = $1', [squatter])).toEqual([{ roles: [] }]);
      } finally {
        await seeded.close();
      }
    });

    it('concurrent registrations of look-alikes make one account', async () => {
      const fresh = freshLocal('race');
      const spellings = [fresh, fresh.replace('a', '\u0430'), fresh.replace('a', '\uFF41'), fresh.replace('c', '\u0441'), fresh.replace('e', '\u0435')];
      const answers = await Promise.all(
        [...spellings, ...spellings].map((l) => register({ email: `${l}@example.com`, password: PASSWORD }).then((r) => r.status)),
      );
      expect(answers.filter((s) => s === 201)).toHaveLength(1);
      expect(answers.filter((s) => s !== 201).every((s) => s === 409)).toBe(true);
    });
  });

  it('login as a user whose email has odd but valid characters still works after registration', async () => {
    const email = `${freshLocal('ü')}@例子.广告`;
    await register({ email, password: PASSWORD }).expect(201);
    await login(running.http, email.toUpperCase(), PASSWORD);
  });
});
