import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    passport?: { user?: string };
  }
}

/**
 * The app being migrated away from: express-session with connect-redis, configured as their
 * READMEs show. `POST /login {userId, field?}` logs a user in (into `userId`, or `passport.user`
 * as passport writes it) and answers with the signed `connect.sid` cookie; `GET /me` says who.
 */
export interface ExpressSessionApp {
  url: string;
  /** Logs `userId` in; the `Cookie` header value a browser would then send (`connect.sid=s%3A…`). */
  login(userId: string, field?: 'userId' | 'passport'): Promise<string>;
  close(): Promise<void>;
}

export async function startExpressSessionApp(options: { redisUrl: string; prefix: string; secret: string | string[] }): Promise<ExpressSessionApp> {
  const redis = createClient({ url: options.redisUrl });
  await redis.connect();
  const app = express();
  app.use(express.json());
  app.use(
    session({
      store: new RedisStore({ client: redis, prefix: options.prefix }),
      secret: options.secret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 86_400_000 },
    }),
  );
  app.post('/login', (req, res) => {
    const { userId, field } = req.body as { userId: string; field?: string };
    if (field === 'passport') req.session.passport = { user: userId };
    else req.session.userId = userId;
    res.json({ ok: true });
  });
  app.get('/me', (req, res) => {
    const userId = req.session.userId ?? req.session.passport?.user;
    if (!userId) res.status(401).json({ ok: false });
    else res.json({ userId });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async login(userId, field = 'userId') {
      const res = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, field }) });
      const setCookie = res.headers.get('set-cookie');
      if (!res.ok || !setCookie) throw new Error(`legacy login failed: ${res.status}`);
      return setCookie.split(';')[0];
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit();
    },
  };
}
