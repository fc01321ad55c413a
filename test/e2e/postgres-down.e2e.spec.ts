import { performance } from 'node:perf_hooks';
import { login, registerAndLogin, RunningApp, startApp } from '../support/app-harness';
import { PrivatePostgres } from '../support/private-postgres';

/** PostgreSQL goes away and comes back while the app runs. */
describe('PostgreSQL down', () => {
  let pg: PrivatePostgres;
  let running: RunningApp;

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    running = await startApp({ DATABASE_URL: pg.url });
  }, 60_000);
  afterAll(async () => {
    await running?.close().catch(() => undefined);
    pg?.destroy();
  });

  it('cached sessions keep validating, writes answer 503 quickly, and all recovers without a restart', async () => {
    const user = await registerAndLogin(running.http);
    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(200);

    pg.stop();

    await running.http.get('/ping/secure').auth(user.accessToken, { type: 'bearer' }).expect(200);
    for (const attempt of [
      () => running.http.post('/auth/login').send({ email: user.email, password: user.password }),
      () => running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }),
      () => running.http.post('/auth/register').send({ email: 'new@example.com', password: 'long enough' }),
    ]) {
      const started = performance.now();
      const res = await attempt();
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(performance.now() - started).toBeLessThan(5000);
    }
    const health = await running.http.get('/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } }, info: { cache: { status: 'up' } } });

    pg.start();

    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      const res = await running.http.post('/auth/login').send({ email: user.email, password: user.password });
      recovered = res.status === 200;
      if (!recovered) await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered).toBe(true);
    await login(running.http, user.email, user.password);
    await running.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    await running.http.get('/health').expect(200);
  }, 60_000);
});
