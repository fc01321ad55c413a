import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DestinationStream } from 'pino';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp, initApp } from '../../src/app.factory';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env';

export interface RunningApp {
  app: INestApplication;
  http: TestAgent;
  env: Record<string, string>;
  close(): Promise<void>;
}

export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789abcdef';

/**
 * Starts the real app (same setup as `main.ts`) against the test PostgreSQL and Redis, with a
 * Redis key prefix of its own so suites never see each other's keys.
 * @param logs keeps every line the app logs, from `trace` up (unless `LOG_LEVEL` is overridden);
 *   without it only errors are logged, to standard output
 */
export async function startApp(
  overrides: Record<string, string | undefined> = {},
  logs?: CapturedLogs,
): Promise<RunningApp> {
  const env: Record<string, string> = Object.fromEntries(
    Object.entries({
      NODE_ENV: 'test',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      SESSION_SECRET: TEST_SECRET,
      REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
      THROTTLE_LIMIT: '10000',
      THROTTLE_LOGIN_LIMIT: '10000',
      // Suites log in with one User-Agent and call without any; binding has its own suite.
      SESSION_BINDING: 'off',
      // The e2e-fastify project runs the same suites on @nestjs/platform-fastify.
      HTTP_ADAPTER: process.env.TEST_HTTP_ADAPTER ?? 'express',
      LOG_LEVEL: logs ? 'trace' : 'error',
      ...overrides,
    }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const app = await createApp(env, { destination: logs });
  await initApp(app);
  return { app, http: request(app.getHttpServer()), env, close: () => app.close() };
}

/** Empties the tables the app writes (the schema stays, made by the migrations). */
export async function resetDatabase(url = TEST_DATABASE_URL): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DO $$ BEGIN
      IF to_regclass('public.sessions') IS NOT NULL THEN TRUNCATE sessions CASCADE; END IF;
      IF to_regclass('public.session_audit') IS NOT NULL THEN TRUNCATE session_audit, session_concurrency_samples; END IF;
      IF to_regclass('public.users') IS NOT NULL THEN TRUNCATE users CASCADE; END IF;
    END $$`);
  } finally {
    await client.end();
  }
}

/** Runs one SQL statement against the test database. */
export async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

let counter = 0;
/** A fresh email for each call. */
export const uniqueEmail = (tag = 'user') => `${tag}-${Date.now()}-${counter++}@example.com`;

export const USER_AGENT_CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

export interface LoggedIn {
  email: string;
  password: string;
  userId: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

/** Registers a user and logs them in. */
export async function registerAndLogin(http: TestAgent, email = uniqueEmail(), password = 'correct horse battery'): Promise<LoggedIn> {
  await http.post('/auth/register').send({ email, password }).expect(201);
  return login(http, email, password);
}

export async function login(http: TestAgent, email: string, password: string): Promise<LoggedIn> {
  const res = await http
    .post('/auth/login')
    .set('User-Agent', USER_AGENT_CHROME_MAC)
    .send({ email, password })
    .expect(200);
  return {
    email,
    password,
    userId: res.body.user.id,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    sessionId: res.body.sessionId,
  };
}

/** A log destination that keeps every line the app writes, to check its logs (see `startApp`). */
export class CapturedLogs implements DestinationStream {
  /** The raw lines, as written (JSON, newline-terminated). */
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  /** Every line parsed; throws on a line that is not JSON. */
  records(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

/** The status a guarded route (`GET /ping/secure`) answers for `token`; 0 when nothing answers (as much a failure as a 5xx). */
export async function securedStatus(http: TestAgent, token: string): Promise<number> {
  try {
    return (await http.get('/ping/secure').auth(token, { type: 'bearer' })).status;
  } catch {
    return 0;
  }
}
