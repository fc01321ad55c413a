import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * NestJS 12 ships ES modules, which Jest cannot load on Node 20; Vitest can. SWC compiles the
 * TypeScript with decorator metadata, which Nest's dependency injection needs (esbuild drops it).
 * Unit tests sit next to the code (`*.spec.ts`); contract and e2e tests live under `test/`.
 */
const swcPlugin = swc.vite({
  module: { type: 'es6' },
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
  },
});

export default defineConfig({
  plugins: [swcPlugin],
  test: {
    globals: true,
    environment: 'node',
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The e2e and contract suites share one PostgreSQL database: run files one at a time.
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.spec.ts'] } },
      { extends: true, test: { name: 'contract', include: ['test/contract/**/*.spec.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.spec.ts'] } },
      // Deterministic simulation of the revocation protocol: Redis and PostgreSQL modelled in
      // process, on fake timers. Needs no server, so it has no global setup.
      {
        extends: true,
        test: {
          name: 'simulation',
          include: ['test/simulation/**/*.spec.ts'],
          globalSetup: [],
          setupFiles: ['test/simulation/deterministic-crypto.ts'],
          testTimeout: 120_000,
          // Worker threads: fake timers hop through the real event loop once per timer, and a
          // thread does that twice as fast as a forked process here.
          pool: 'threads',
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
      // The packed package (npm run build:package) installed and built in fixture host apps.
      {
        extends: true,
        test: { name: 'package', include: ['test/package-hosts/*.spec.ts'], testTimeout: 120_000, hookTimeout: 600_000 },
      },
      // The admin page in a real Chromium (/usr/bin/chromium or CHROMIUM_PATH, driven by
      // playwright-core). Skipped, saying so, where there is none, unless REQUIRE_BROWSER_TESTS
      // is set (CI), which makes a missing Chromium fail the run.
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.spec.ts'],
          globalSetup: ['test/browser/support/global-setup.ts'],
        },
      },
      // The HTTP contract again on @nestjs/platform-fastify (HTTP_ADAPTER=fastify): same suites,
      // same expectations. Suites about processes and servers rather than HTTP run once, above.
      {
        extends: true,
        test: {
          name: 'e2e-fastify',
          env: { TEST_HTTP_ADAPTER: 'fastify' },
          include: [
            'test/e2e/{auth,own-sessions,admin,admin-page,cookies,password,throttling,storage,refresh-rotation,binding,login-abuse,password-guessing,fuzz,security-asvs,openapi,logging,operations,end-issued-before,email-identity,query-logging,legacy-sessions,legacy-sql-table,login-replaces,realtime-handshake,realtime-ends,user-roles,user-throttling,new-device,review14-attacks}.e2e.spec.ts',
          ],
        },
      },
    ],
  },
});
