import { Controller, Get, type INestApplication, Logger, Module, Post, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import session from 'express-session';
import passport from 'passport';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import request from 'supertest';
import { TEST_DATABASE_URL } from '../support/test-env';
import {
  CurrentUser,
  type CurrentUserInfo,
  Public,
  redisSessionAdapters,
  SESSION_STRATEGY,
  SessionConfigurationError,
  typeOrmSessionAdapters,
  type AdapterLifecycle,
  type CredentialsVerifier,
  MemoryLoginFailureCounter,
  MemorySessionCache,
  SessionAdminModule,
  SessionIssuer,
  SessionModule,
  type SessionModuleExtras,
  SessionService,
} from '../../src/session';

/**
 * What SessionModule takes of an app, by its extras: its own routes at a path of the app's choice
 * (or none), and nothing else unless asked — the global guard, the global filter. On the in-memory
 * adapters, in a bare Nest app (no app module of this repository).
 */
const SECRET = 'module-shape-secret-module-shape-secret-0123';
const USER = { id: 'u-1', email: 'ada@example.com', roles: [] as string[] };
const credentials: CredentialsVerifier = {
  verify: async (email, password) => (email === USER.email && password === 'correct horse' ? USER : null),
  findById: async (id) => (id === USER.id ? USER : null),
};

@Controller('host')
class HostController {
  constructor(private readonly sessions: SessionService) {}

  @Get()
  home() {
    return { hello: 'host' };
  }

  /** Public, and personal when a session comes along. */
  @Get('maybe')
  @Public()
  maybe(@CurrentUser() user: CurrentUserInfo | undefined) {
    return { userId: user?.id ?? null };
  }

  /** Guarded through passport itself. */
  @Get('passport')
  @UseGuards(AuthGuard(SESSION_STRATEGY))
  viaPassport(@CurrentUser() user: CurrentUserInfo) {
    return { userId: user.id };
  }

  /** Throws the module's SessionNotFoundError: 404 with the global filter, 500 without. */
  @Post('revoke-unknown')
  revokeUnknown() {
    return this.sessions.revokeOwn(USER.id, '00000000-0000-4000-8000-000000000000');
  }
}

async function appWith(
  extras: SessionModuleExtras,
  options: object = {},
  more: unknown[] = [],
  configure: (app: INestApplication) => void = () => undefined,
): Promise<INestApplication> {
  @Module({ imports: [SessionModule.forRoot({ secret: SECRET, credentials, ...options, ...extras }), ...(more as never[])], controllers: [HostController] })
  class HostModule {}
  const moduleRef = await Test.createTestingModule({ imports: [HostModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  configure(app);
  await app.init();
  return app;
}

const login = (app: INestApplication, path = '/auth/login') =>
  request(app.getHttpServer()).post(path).send({ email: USER.email, password: 'correct horse' });

describe('SessionModule extras', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    vi.restoreAllMocks();
  });

  it('by default mounts /auth and guards nothing of the app', async () => {
    app = await appWith({});
    const http = request(app.getHttpServer());
    const { body } = await login(app).expect(200);
    await http.get('/auth/me').expect(401);
    await http.get('/auth/me').auth(body.accessToken, { type: 'bearer' }).expect(200);
    await http.get('/host').expect(200, { hello: 'host' });
    // No global filter: the app's own use of the service is the app's to map.
    await http.post('/host/revoke-unknown').expect(500);
  });

  it('mounts the routes at the path given, and scopes the refresh cookie to it', async () => {
    app = await appWith({ routes: 'api/auth' });
    const res = await login(app, '/api/auth/login').expect(200);
    expect(res.headers['set-cookie']).toEqual(expect.arrayContaining([expect.stringMatching(/^__Secure-refresh=.*Path=\/api\/auth;/)]));
    await login(app).expect(404);
    await request(app.getHttpServer()).post('/api/auth/refresh').send({ refreshToken: res.body.refreshToken }).expect(200);
  });

  it('mounts no route with routes: false, and SessionIssuer still serves the app', async () => {
    app = await appWith({ routes: false });
    await login(app).expect(404);
    expect(app.get(SessionIssuer)).toBeInstanceOf(SessionIssuer);
  });

  it('guards every route of the app with globalGuard, and maps its errors with exceptionFilter', async () => {
    app = await appWith({ globalGuard: true, exceptionFilter: true });
    const http = request(app.getHttpServer());
    await http.get('/host').expect(401).expect('WWW-Authenticate', 'Bearer');
    const { body } = await login(app).expect(200);
    await http.get('/host').auth(body.accessToken, { type: 'bearer' }).expect(200);
    await http.post('/host/revoke-unknown').auth(body.accessToken, { type: 'bearer' }).expect(404, {
      statusCode: 404,
      message: 'Session not found',
      error: 'Not Found',
    });
  });

  it('says at start what it took of the app', async () => {
    const log = vi.spyOn(Logger.prototype, 'log');
    app = await appWith({ globalGuard: true });
    const lines = log.mock.calls.map(([message]) => String(message)).join('\n');
    expect(lines).toContain('routes: /auth (login, refresh, logout, me, sessions)');
    expect(lines).toContain('global guard: on');
    expect(lines).toContain('global rate limit: off');
    expect(lines).toContain('global exception filter: off');
    expect(lines).toMatch(/Adapters: store MemorySessionStore, cache MemorySessionCache \(memory\)/);
  });

  it('warns at start when production runs on the in-memory store', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      app = await appWith({});
    } finally {
      process.env.NODE_ENV = before;
    }
    expect(warn.mock.calls.map(([message]) => String(message)).join('\n')).toMatch(/Sessions are kept in memory \(NODE_ENV=production\)/);
  });

  it('starts and closes every adapter the app passes, once each, even one object passed for two ports', async () => {
    const calls: string[] = [];
    const lifecycle = (name: string): AdapterLifecycle => ({
      start: (context) => void calls.push(`${name} start ${context.store.constructor.name}`),
      close: () => void calls.push(`${name} close`),
    });
    const cache = Object.assign(new MemorySessionCache(), lifecycle('cache'));
    const counter = Object.assign(new MemoryLoginFailureCounter(), lifecycle('counter'));
    app = await appWith({}, { cache, loginFailures: counter, auditLog: undefined });
    expect(calls).toEqual(['cache start MemorySessionStore', 'counter start MemorySessionStore']);
    await app.close();
    app = undefined;
    expect(calls.slice(2)).toEqual(['cache close', 'counter close']);
  });

  it('serves the admin routes and page at the path SessionAdminModule is given', async () => {
    app = await appWith({}, {}, [SessionAdminModule.forRoot({ path: 'ops' })]);
    const http = request(app.getHttpServer());
    const page = await http.get('/ops').expect(200);
    expect(page.text).toContain('src="/ops/assets/admin.js"');
    expect(page.text).toContain('data-auth-path="/auth"');
    await http.get('/ops/assets/admin.js').expect(200);
    await http.get('/ops/sessions').expect(401);
    const { body } = await login(app).expect(200);
    await http.get('/ops/sessions').auth(body.accessToken, { type: 'bearer' }).expect(403);
    await http.get('/admin').expect(404);
  });

  it("leaves passport's own session strategy alone: an express-session + passport login keeps working beside it", async () => {
    app = await appWith({}, {}, [], (nest) => {
      nest.use(session({ secret: 'legacy-secret', resave: false, saveUninitialized: false }));
      nest.use(passport.initialize());
      nest.use(passport.session());
    });
    const http = request(app.getHttpServer());
    await http.get('/host').expect(200, { hello: 'host' });
    const { body } = await login(app).expect(200);
    await http.get('/auth/me').auth(body.accessToken, { type: 'bearer' }).expect(200);
  });

  it('answers AuthGuard(SESSION_STRATEGY) with 401 for no or a bad token, 200 for a good one', async () => {
    app = await appWith({});
    const http = request(app.getHttpServer());
    await http.get('/host/passport').expect(401);
    await http.get('/host/passport').auth('sa_forged', { type: 'bearer' }).expect(401);
    const { body } = await login(app).expect(200);
    await http.get('/host/passport').auth(body.accessToken, { type: 'bearer' }).expect(200, { userId: USER.id });
  });

  it('follows the global prefix: routes, the refresh cookie and the admin page', async () => {
    app = await appWith({}, {}, [SessionAdminModule.forRoot()], (nest) => nest.setGlobalPrefix('api'));
    const http = request(app.getHttpServer());
    const res = await login(app, '/api/auth/login').expect(200);
    expect(res.headers['set-cookie']).toEqual(expect.arrayContaining([expect.stringMatching(/^__Secure-refresh=.*Path=\/api\/auth;/)]));
    const page = await http.get('/api/admin').expect(200);
    expect(page.text).toContain('src="/api/admin/assets/admin.js"');
    expect(page.text).toContain('data-auth-path="/api/auth"');
    expect(page.text).toContain('data-admin-path="/api/admin"');
  });

  it('gives a public route the session presented with the request, and never refuses one', async () => {
    app = await appWith({ globalGuard: true });
    const http = request(app.getHttpServer());
    await http.get('/host/maybe').expect(200, { userId: null });
    await http.get('/host/maybe').auth('sa_forged', { type: 'bearer' }).expect(200, { userId: null });
    const { body } = await login(app).expect(200);
    await http.get('/host/maybe').auth(body.accessToken, { type: 'bearer' }).expect(200, { userId: USER.id });
  });

  it('refuses a login that is not JSON (a cross-site form cannot log a victim in): 415', async () => {
    app = await appWith({});
    await request(app.getHttpServer())
      .post('/auth/login')
      .type('form')
      .send({ email: USER.email, password: 'correct horse' })
      .expect(415)
      .expect((res) => expect(res.headers['set-cookie']).toBeUndefined());
  });

  it('names the fix when the Redis adapters get no Redis', () => {
    expect(() => redisSessionAdapters(undefined as unknown as string)).toThrow(SessionConfigurationError);
    expect(() => redisSessionAdapters(process.env.NO_SUCH_VARIABLE as string)).toThrow(/is REDIS_URL set\?/);
  });

  it('stops the start, naming the fix, when the DataSource never ran SESSION_MIGRATIONS', async () => {
    const name = `session_nomig_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    const dataSource = await new DataSource({ type: 'postgres', url: url.toString() }).initialize();
    try {
      await expect(appWith({}, typeOrmSessionAdapters(dataSource))).rejects.toThrow(
        /TypeOrmSessionStore needs the table\(s\) sessions, session_rotated_refresh_tokens, session_concurrency_samples.*SESSION_MIGRATIONS/,
      );
    } finally {
      await dataSource.destroy();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('says what is missing when SessionAdminModule comes without SessionModule', async () => {
    @Module({ imports: [SessionAdminModule.forRoot()] })
    class AdminOnlyModule {}
    await expect(Test.createTestingModule({ imports: [AdminOnlyModule] }).compile()).rejects.toThrow(
      /SessionAdminModule needs SessionModule\.forRoot\(\) or forRootAsync\(\) in the app, global/,
    );
  });
});
