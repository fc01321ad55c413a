import { listenOnFreePort } from '../support/listen';
import { registerAndLogin, resetDatabase, RunningApp, sql, startApp } from '../support/app-harness';
import { connectIo, connectWs, ioRefusal, whoami } from '../support/socket-clients';

/** A token shaped like ours, with a tag no key made. */
const FORGED = `sa_${'A'.repeat(64)}`;

describe('real-time: authenticated socket.io gateway (whoami) and refused handshakes', () => {
  let running: RunningApp;
  let url: string;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
    url = await listenOnFreePort(running.app);
  });
  afterAll(() => running.close());

  it('auth.token: whoami is acknowledged with {userId, sessionId}', async () => {
    const user = await registerAndLogin(running.http);
    const socket = await connectIo(url, { auth: { token: user.accessToken } });
    expect(await whoami(socket)).toEqual({ userId: user.userId, sessionId: user.sessionId });
    socket.close();
  });

  it('Authorization: Bearer in the handshake works too', async () => {
    const user = await registerAndLogin(running.http);
    const socket = await connectIo(url, { extraHeaders: { authorization: `Bearer ${user.accessToken}` } });
    expect(await whoami(socket)).toEqual({ userId: user.userId, sessionId: user.sessionId });
    socket.close();
  });

  it('the access cookie works from the app’s own origin, and is refused from a foreign one', async () => {
    const user = await registerAndLogin(running.http);
    const cookie = `__Host-access=${user.accessToken}`;
    const own = await connectIo(url, { extraHeaders: { cookie, origin: url } });
    expect(await whoami(own)).toEqual({ userId: user.userId, sessionId: user.sessionId });
    own.close();
    expect(await ioRefusal(url, { extraHeaders: { cookie, origin: 'https://evil.example' } })).toBe('Unauthorized');
    expect(await ioRefusal(url, { extraHeaders: { cookie } })).toBe('Unauthorized');
  });

  // Failed before the fix: a browser sends no Origin on a same-origin GET, which is socket.io's
  // long-polling handshake, so the app's own page could never use its cookie over polling.
  it('over long-polling without an Origin, the access cookie works when the browser says Sec-Fetch-Site: same-origin, only then', async () => {
    const user = await registerAndLogin(running.http);
    const cookie = `__Host-access=${user.accessToken}`;
    const polling = { transports: ['polling'] as string[] };
    const own = await connectIo(url, { ...polling, extraHeaders: { cookie, 'sec-fetch-site': 'same-origin' } });
    expect(await whoami(own)).toEqual({ userId: user.userId, sessionId: user.sessionId });
    own.close();
    for (const site of ['same-site', 'cross-site', 'none']) {
      expect(await ioRefusal(url, { ...polling, extraHeaders: { cookie, 'sec-fetch-site': site } })).toBe('Unauthorized');
    }
    expect(await ioRefusal(url, { ...polling, extraHeaders: { cookie } })).toBe('Unauthorized');
  });

  // Failed before the fix: the default rule compared hosts only, so a page on http://<the app's
  // host> (which a network attacker can write) could open a socket with the Secure access cookie.
  it('the access cookie is refused from the app’s own host served over plain http (not loopback), accepted over https', async () => {
    const user = await registerAndLogin(running.http);
    const cookie = `__Host-access=${user.accessToken}`;
    const host = `app.example:${new URL(url).port}`;
    expect(await ioRefusal(url, { extraHeaders: { cookie, host, origin: `http://${host}` } })).toBe('Unauthorized');
    expect(await ioRefusal(url, { extraHeaders: { cookie, host, origin: `https://${host}` } })).toBe('connected');
    expect(await ioRefusal(url, { extraHeaders: { cookie, origin: 'null' } })).toBe('Unauthorized');
  });

  it('refused with connect_error "Unauthorized": no token, a forged one, an expired one, a revoked one', async () => {
    expect(await ioRefusal(url)).toBe('Unauthorized');
    expect(await ioRefusal(url, { auth: { token: FORGED } })).toBe('Unauthorized');
    expect(await ioRefusal(url, { auth: { token: 'not a token' } })).toBe('Unauthorized');

    const expired = await registerAndLogin(running.http);
    await sql(`UPDATE sessions SET access_expires_at = now() - interval '1 second' WHERE id = $1`, [expired.sessionId]);
    expect(await ioRefusal(url, { auth: { token: expired.accessToken } })).toBe('Unauthorized');

    const revoked = await registerAndLogin(running.http);
    await running.http.post('/auth/logout').auth(revoked.accessToken, { type: 'bearer' }).expect(204);
    expect(await ioRefusal(url, { auth: { token: revoked.accessToken } })).toBe('Unauthorized');
  });

  it('a message over 1 MB disconnects the socket', async () => {
    const user = await registerAndLogin(running.http);
    const socket = await connectIo(url, { auth: { token: user.accessToken } });
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    socket.emit('whoami', 'x'.repeat(1_100_000));
    expect(await disconnected).toBe('transport close');
  });

  it('a token in the query string is ignored', async () => {
    const user = await registerAndLogin(running.http);
    expect(await ioRefusal(url, { query: { token: user.accessToken } })).toBe('Unauthorized');
  });
});

describe('real-time: authenticated plain WebSocket gateway (REALTIME_TRANSPORT=ws)', () => {
  let running: RunningApp;
  let url: string;

  beforeAll(async () => {
    running = await startApp({ REALTIME_TRANSPORT: 'ws' });
    url = `${(await listenOnFreePort(running.app)).replace('http', 'ws')}/ws`;
  });
  afterAll(() => running.close());

  it('Bearer header: whoami answers {userId, sessionId}', async () => {
    const user = await registerAndLogin(running.http);
    const client = connectWs(url, { authorization: `Bearer ${user.accessToken}` });
    await client.opened;
    expect(await client.request('whoami')).toEqual({ userId: user.userId, sessionId: user.sessionId });
    client.ws.close();
  });

  it('a message sent right after the open, before the token is checked, is answered, not lost', async () => {
    const user = await registerAndLogin(running.http); // not cached yet: the check is asynchronous
    const client = connectWs(url, { authorization: `Bearer ${user.accessToken}` });
    await client.opened;
    const answer = client.request('whoami');
    expect(await answer).toEqual({ userId: user.userId, sessionId: user.sessionId });
    client.ws.close();
  });

  // Failed before the fix: ws's default maxPayload is 100 MiB, and a 90 MB whoami was buffered,
  // parsed and answered (the server's memory grew by hundreds of MB per such message).
  it('a message over 1 MB closes the socket with 1009 and is never handled', async () => {
    const user = await registerAndLogin(running.http);
    const client = connectWs(url, { authorization: `Bearer ${user.accessToken}` });
    await client.opened;
    client.ws.send(JSON.stringify({ event: 'whoami', data: 'x'.repeat(1_100_000) }));
    const outcome = await Promise.race([
      client.closed.then((closed) => closed.code),
      client.request('whoami').then(
        () => 'answered',
        () => 'no answer',
      ),
    ]);
    expect(outcome).toBe(1009);
    expect(client.messages).toEqual([]);
  });

  it('refused with close code 4401: none, forged, revoked, cookie from a foreign origin', async () => {
    const user = await registerAndLogin(running.http);
    await running.http.post('/auth/logout').auth(user.accessToken, { type: 'bearer' }).expect(204);
    const other = await registerAndLogin(running.http);
    for (const headers of <Array<Record<string, string>>>[
      {},
      { authorization: `Bearer ${FORGED}` },
      { authorization: `Bearer ${user.accessToken}` },
      { cookie: `__Host-access=${other.accessToken}`, origin: 'https://evil.example' },
    ]) {
      const client = connectWs(url, headers);
      const closed = await client.closed;
      expect(closed.code).toBe(4401);
    }
    const own = connectWs(url, { cookie: `__Host-access=${other.accessToken}`, origin: url.replace('ws', 'http').replace('/ws', '') });
    await own.opened;
    expect(await own.request('whoami')).toEqual({ userId: other.userId, sessionId: other.sessionId });
    own.ws.close();
  });
});

/**
 * Found in review, failed before the fix: behind a proxy (`TRUST_PROXY`) with `SESSION_BINDING=ip`,
 * HTTP binds the session to the client address from `X-Forwarded-For`, but the socket handshake was
 * checked with the TCP peer's address (the proxy's): opening a socket was taken for a hijack and
 * revoked the session. `authenticateSockets` now takes `clientAddress`, and the app passes its
 * `TRUST_PROXY` rule (src/realtime/client-address.ts).
 */
describe('real-time: ip binding behind a trusted proxy', () => {
  for (const transport of ['socket.io', 'ws'] as const) {
    it(`${transport}: a socket opened through the proxy by the session's own client is accepted and ends nothing`, async () => {
      const running = await startApp({ SESSION_BINDING: 'ip', TRUST_PROXY: 'loopback', REALTIME_TRANSPORT: transport });
      try {
        const base = await listenOnFreePort(running.app);
        const client = { 'x-forwarded-for': '203.0.113.5' };
        const email = `ip-${Date.now()}-${transport}@example.com`;
        await running.http.post('/auth/register').send({ email, password: 'correct horse battery' }).expect(201);
        const { body } = await running.http.post('/auth/login').set(client).send({ email, password: 'correct horse battery' }).expect(200);
        const headers = { ...client, authorization: `Bearer ${body.accessToken}` };
        if (transport === 'ws') {
          const ws = connectWs(`${base.replace('http', 'ws')}/ws`, headers);
          const outcome = await Promise.race([ws.opened.then(() => ws.request('whoami')), ws.closed.then((c) => c.code)]);
          ws.ws.close();
          expect(outcome).toEqual({ userId: body.user.id, sessionId: body.sessionId });
        } else {
          expect(await ioRefusal(base, { extraHeaders: headers })).toBe('connected');
        }
        await running.http.get('/auth/me').set(client).auth(body.accessToken, { type: 'bearer' }).expect(200);
      } finally {
        await running.close();
      }
    });
  }
});
