import { Controller, Get, type INestApplication, Module, Post, UseGuards } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TEST_DATABASE_URL } from '../support/test-env';
import { type CredentialsVerifier, CurrentUser, type CurrentUserInfo, SessionAuthGuard, SessionModule, SqlTableLegacySource } from '../../src/session';

const SECRET = 'legacy-sql-table-secret-legacy-sql-table-secret-01';
const USER = { id: '7', email: 'ada@example.com', roles: [] as string[] };
const credentials: CredentialsVerifier = {
  verify: async () => null,
  findById: async (id) => (id === USER.id ? USER : null),
};

@Controller('host')
@UseGuards(SessionAuthGuard)
class HostController {
  @Get()
  read(@CurrentUser() user: CurrentUserInfo) {
    return { id: user.id };
  }
  @Post()
  write(@CurrentUser() user: CurrentUserInfo) {
    return { id: user.id };
  }
}

/**
 * A host app that moves away from a sessions table with raw bearer tokens (`SqlTableLegacySource`):
 * its clients' first request with their old token is served, and answers this module's tokens in
 * the `X-Session-*` headers. On the adapter of the project (Express, or Fastify in e2e-fastify).
 */
describe('legacy sessions table (bearer tokens) through SessionAuthGuard', () => {
  const table = `legacy_bearer_${randomBytes(3).toString('hex')}`;
  let dataSource: DataSource;
  let app: INestApplication;

  beforeAll(async () => {
    dataSource = await new DataSource({ type: 'postgres', url: TEST_DATABASE_URL }).initialize();
    await dataSource.query(`CREATE TABLE ${table} (token text NOT NULL, user_id integer NOT NULL, expires_at timestamptz, is_active boolean NOT NULL DEFAULT true)`);
    await dataSource.query(
      `INSERT INTO ${table} (token, user_id, expires_at) VALUES ('live-get', 7, now() + interval '1 day'), ('live-post', 7, now() + interval '1 day'), ('gone-user', 8, NULL)`,
    );
    @Module({
      imports: [SessionModule.forRoot({ secret: SECRET, credentials, legacySessions: new SqlTableLegacySource({ dataSource, table }) })],
      controllers: [HostController],
    })
    class HostModule {}
    const moduleRef = await Test.createTestingModule({ imports: [HostModule] }).compile();
    app = process.env.TEST_HTTP_ADAPTER === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false }) : moduleRef.createNestApplication({ logger: false });
    await app.init();
    const instance = app.getHttpAdapter().getInstance() as { ready?: () => Promise<unknown> };
    if (typeof instance.ready === 'function') await instance.ready();
  });
  afterAll(async () => {
    await app?.close();
    await dataSource.query(`DROP TABLE ${table}`);
    await dataSource.destroy();
  });

  // Failed before the fix: the guard skipped the bridge for every request with an Authorization
  // header, which is where a bearer source's credential is, so no legacy token was ever upgraded.
  it('a live legacy bearer token is served (any method) and answers this module’s tokens in X-Session-* headers', async () => {
    const http = request(app.getHttpServer());
    for (const [method, token] of [['get', 'live-get'], ['post', 'live-post']] as const) {
      const res = await http[method]('/host').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBeLessThan(300);
      expect(res.body).toEqual({ id: USER.id });
      const access = res.headers['x-session-access-token'] as string;
      expect(access).toMatch(/^sa_/);
      expect(res.headers['x-session-refresh-token']).toMatch(/^sr_/);
      await http.get('/host').set('Authorization', `Bearer ${access}`).expect(200, { id: USER.id });
    }
  });

  it('odd, injected, unknown, refresh-shaped or this module’s forged tokens, and a user gone, are not sessions (401, never 5xx)', async () => {
    const http = request(app.getHttpServer());
    const odd = ["' OR '1'='1", "live-get' --", 'x'.repeat(600), 'sr_abc', `sa_${'A'.repeat(64)}`, '%', '\\', 'gone-user', 'unknown'];
    for (const token of odd) {
      const res = await http.post('/host').set('Authorization', `Bearer ${token}`);
      expect([token, res.status]).toEqual([token, 401]);
      expect(res.headers['x-session-access-token']).toBeUndefined();
    }
  });
});
