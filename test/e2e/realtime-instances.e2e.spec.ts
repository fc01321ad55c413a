import { EventEmitter2 } from '@nestjs/event-emitter';
import { createServer } from 'node:net';
import { listenOnFreePort } from '../support/listen';
import { compiledMain, spawnApp } from '../support/compiled-app';
import { login, registerAndLogin, resetDatabase, RunningApp, startApp } from '../support/app-harness';
import { connectIo, ioEnding, whoami } from '../support/socket-clients';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('real-time across instances (one Redis, one PostgreSQL)', () => {
  let a: RunningApp;
  let b: RunningApp;
  let urlB: string;
  const prefix = `rt${Date.now().toString(36)}:`;

  beforeAll(async () => {
    await resetDatabase();
    a = await startApp({ REDIS_KEY_PREFIX: prefix, SESSION_PRESENCE_TTL: '2' });
    b = await startApp({ REDIS_KEY_PREFIX: prefix, SESSION_PRESENCE_TTL: '2' });
    await listenOnFreePort(a.app);
    urlB = await listenOnFreePort(b.app);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('a revocation on A closes the socket on B within 100 ms (measured over 40 revocations)', async () => {
    const user = await registerAndLogin(a.http);
    const afterAnswer: number[] = [];
    const afterRequest: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      const session = await login(a.http, user.email, user.password);
      const socket = await connectIo(urlB, { auth: { token: session.accessToken } });
      await whoami(socket);
      const ending = ioEnding(socket);
      const start = performance.now();
      await a.http.delete(`/auth/sessions/${session.sessionId}`).auth(user.accessToken, { type: 'bearer' }).expect(204);
      const answered = performance.now();
      const seen = await Promise.race([ending, sleep(2000).then(() => null)]);
      expect(seen?.ended).toEqual({ reason: 'revoked' });
      afterRequest.push(seen!.at - start);
      afterAnswer.push(seen!.at - answered);
    }
    afterRequest.sort((x, y) => x - y);
    afterAnswer.sort((x, y) => x - y);
    const figures = {
      fromRequestP50: percentile(afterRequest, 50),
      fromRequestP99: percentile(afterRequest, 99),
      fromAnswerP50: percentile(afterAnswer, 50),
      fromAnswerP99: percentile(afterAnswer, 99),
    };
    console.log(`close latency across instances (ms): ${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v * 10) / 10])))}`);
    expect(figures.fromAnswerP99).toBeLessThan(100);
  });

  it('A sees a socket open on B as online; B closing it makes it offline on A (session.online / session.offline)', async () => {
    const user = await registerAndLogin(a.http);
    const events: string[] = [];
    a.app.get(EventEmitter2).on('session.online', (e: { sessionId: string }) => e.sessionId === user.sessionId && events.push('online'));
    a.app.get(EventEmitter2).on('session.offline', (e: { sessionId: string }) => e.sessionId === user.sessionId && events.push('offline'));
    b.app.get(EventEmitter2).on('session.online', (e: { sessionId: string }) => e.sessionId === user.sessionId && events.push('online'));
    b.app.get(EventEmitter2).on('session.offline', (e: { sessionId: string }) => e.sessionId === user.sessionId && events.push('offline'));
    const socket = await connectIo(urlB, { auth: { token: user.accessToken } });
    await whoami(socket);
    await sleep(50);
    const listed = await a.http.get('/auth/sessions').auth(user.accessToken, { type: 'bearer' }).expect(200);
    expect(listed.body[0]).toMatchObject({ id: user.sessionId, online: true });
    socket.close();
    await sleep(100);
    const after = await a.http.get('/auth/sessions').auth(user.accessToken, { type: 'bearer' }).expect(200);
    expect(after.body[0]).toMatchObject({ id: user.sessionId, online: false });
    expect(events).toEqual(['online', 'offline']);
  });

  it('an instance killed (SIGKILL) with sockets open: they stop counting as online within the TTL, and go offline', async () => {
    compiledMain(); // compile before the clock starts
    const port = await freePort();
    const killed = await spawnApp(
      {
        NODE_ENV: 'test',
        DATABASE_URL: a.env.DATABASE_URL,
        REDIS_URL: a.env.REDIS_URL,
        SESSION_SECRET: a.env.SESSION_SECRET,
        REDIS_KEY_PREFIX: prefix,
        SESSION_PRESENCE_TTL: '2',
        SESSION_BINDING: 'off',
        THROTTLE_LIMIT: '10000',
        THROTTLE_LOGIN_LIMIT: '10000',
        LOG_LEVEL: 'error',
      },
      port,
    );
    try {
      const user = await registerAndLogin(a.http);
      // Whichever surviving instance reaps the dead one's entries emits it (once).
      const offline = new Promise<number>((resolve) => {
        for (const survivor of [a, b]) {
          survivor.app.get(EventEmitter2).on('session.offline', (e: { sessionId: string }) => e.sessionId === user.sessionId && resolve(performance.now()));
        }
      });
      const sockets = await Promise.all(Array.from({ length: 5 }, () => connectIo(`http://127.0.0.1:${port}`, { auth: { token: user.accessToken } })));
      await whoami(sockets[0]);
      await sleep(100);
      expect((await a.http.get('/auth/sessions').auth(user.accessToken, { type: 'bearer' })).body[0].online).toBe(true);
      killed.child.kill('SIGKILL');
      const killedAt = performance.now();
      let clearedAfter = Infinity;
      while (performance.now() - killedAt < 5000) {
        const online = (await a.http.get('/auth/sessions').auth(user.accessToken, { type: 'bearer' })).body[0].online;
        if (!online) {
          clearedAfter = performance.now() - killedAt;
          break;
        }
        await sleep(100);
      }
      const offlineAfter = (await Promise.race([offline, sleep(5000).then(() => Infinity)])) - killedAt;
      console.log(`presence after SIGKILL (TTL 2 s): online cleared after ${Math.round(clearedAfter)} ms, session.offline after ${Math.round(offlineAfter)} ms`);
      expect(clearedAfter).toBeLessThanOrEqual(2100);
      // The reap runs on the survivors' heartbeat: at most a third of the TTL later.
      expect(offlineAfter).toBeLessThanOrEqual(2000 + 700 + 200);
      for (const socket of sockets) socket.close();
    } finally {
      killed.child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('real-time without Redis (one instance, in-process presence)', () => {
  let running: RunningApp;
  let url: string;

  beforeAll(async () => {
    running = await startApp({ REDIS_URL: undefined });
    url = await listenOnFreePort(running.app);
  });
  afterAll(() => running.close());

  it('whoami, online, and logout closing the socket', async () => {
    const user = await registerAndLogin(running.http);
    const socket = await connectIo(url, { auth: { token: user.accessToken } });
    expect(await whoami(socket)).toEqual({ userId: user.userId, sessionId: user.sessionId });
    await sleep(20);
    expect((await running.http.get('/auth/sessions').auth(user.accessToken, { type: 'bearer' })).body[0].online).toBe(true);
    const ending = ioEnding(socket);
    await running.http.post('/auth/logout').auth(user.accessToken, { type: 'bearer' }).expect(204);
    expect((await ending).ended).toEqual({ reason: 'logout' });
  });
});
