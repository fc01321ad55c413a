import { performance } from 'node:perf_hooks';
import { resetDatabase, RunningApp, startApp, uniqueEmail } from '../support/app-harness';

/** ASVS V6 (authentication): failed logins slow the attacker, not the user, and reveal nothing. */
describe('login abuse resistance', () => {
  let running: RunningApp;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp({ TRUST_PROXY: 'true' });
  });
  afterAll(() => running.close());

  const attempt = (email: string, password: string, ip: string) =>
    running.http.post('/auth/login').set('X-Forwarded-For', ip).send({ email, password });

  it('V6.3.1 per (account, network): free failures, then 429 with a growing Retry-After; other networks and accounts unaffected', async () => {
    const email = uniqueEmail('victim');
    const other = uniqueEmail('bystander');
    for (const e of [email, other]) await running.http.post('/auth/register').send({ email: e, password: 'the right one' }).expect(201);

    for (let i = 0; i < 5; i++) await attempt(email, 'guess', '203.0.113.9').expect(401);
    await attempt(email, 'guess', '203.0.113.9').expect(401); // the 6th failure starts a 1 s block
    const blocked = await attempt(email, 'the right one', '203.0.113.10'); // same /24: blocked even with the right password
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    // The real user from another network, and another account from the attacker's network, log in.
    await attempt(email, 'the right one', '198.51.100.20').expect(200);
    await attempt(other, 'the right one', '203.0.113.9').expect(200);

    await new Promise((r) => setTimeout(r, 1100));
    await attempt(email, 'guess', '203.0.113.9').expect(401); // 7th failure: a 2 s block
    const longer = await attempt(email, 'guess', '203.0.113.9');
    expect(longer.status).toBe(429);
    expect(Number(longer.headers['retry-after'])).toBe(2);
  });

  it('V6.3.1 a success resets the count', async () => {
    const email = uniqueEmail();
    await running.http.post('/auth/register').send({ email, password: 'the right one' }).expect(201);
    for (let i = 0; i < 5; i++) await attempt(email, 'guess', '192.0.2.1').expect(401);
    await attempt(email, 'the right one', '192.0.2.1').expect(200);
    for (let i = 0; i < 5; i++) await attempt(email, 'guess', '192.0.2.1').expect(401);
  });

  it('V6.3.8 unknown email and wrong password: same status, body and headers, similar time', async () => {
    const email = uniqueEmail();
    await running.http.post('/auth/register').send({ email, password: 'the right one' }).expect(201);
    const times = { wrong: [] as number[], unknown: [] as number[] };
    let wrongRes, unknownRes;
    for (let i = 0; i < 4; i++) {
      let t = performance.now();
      wrongRes = await attempt(email, `wrong ${i}`, `10.${i}.0.1`);
      times.wrong.push(performance.now() - t);
      t = performance.now();
      unknownRes = await attempt(uniqueEmail('ghost'), `wrong ${i}`, `10.${i}.1.1`);
      times.unknown.push(performance.now() - t);
    }
    expect(unknownRes!.status).toBe(401);
    expect(unknownRes!.body).toEqual(wrongRes!.body);
    const comparable = (h: Record<string, string>) =>
      Object.keys(h).filter((k) => !['date', 'etag', 'x-ratelimit-remaining-login', 'x-ratelimit-reset-login'].includes(k)).sort();
    expect(comparable(unknownRes!.headers)).toEqual(comparable(wrongRes!.headers));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    // Both hash a password with argon2id (a dummy hash for unknown emails); without that, the
    // unknown email would answer many times faster.
    const ratio = median(times.unknown) / median(times.wrong);
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(2.5);
  });
});
