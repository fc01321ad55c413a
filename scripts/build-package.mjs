#!/usr/bin/env node
// `npm run build:package`: builds src/session into the installable package `nest-session-module`
// and packs it into dist/package/<name>-<version>.tgz (what `npm pack` makes).
//
// The package holds two builds of the same sources, each with its declarations: CommonJS under
// dist/cjs (`require`) and ES modules under dist/esm (`import`), selected by `exports`, plus the
// admin page's files. No host-app code and no tests: only what src/session holds, specs excluded.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'package');
const STAGE = join(ROOT, 'dist', '.package-stage');
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
const app = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** The version of each runtime dependency, as the app that develops the module pins it. */
const pinned = (name) => {
  const range = app.dependencies[name];
  if (!range) throw new Error(`build-package: ${name} is not a dependency of the repository's package.json`);
  return range;
};

const manifest = {
  name: 'nest-session-module',
  version: '0.4.0',
  description:
    'Server-side sessions for NestJS: PostgreSQL as the truth, Redis as cache and bus, refresh-token rotation with reuse detection, instant revocation, rate-limited login, an admin view',
  license: app.license,
  keywords: ['nestjs', 'session', 'authentication', 'refresh-token', 'revocation', 'redis', 'postgresql', 'typeorm', 'passport'],
  engines: { node: '>=20.19' },
  type: 'commonjs',
  main: './dist/cjs/index.js',
  types: './dist/cjs/index.d.ts',
  exports: {
    '.': {
      import: { types: './dist/esm/index.d.ts', default: './dist/esm/index.js' },
      require: { types: './dist/cjs/index.d.ts', default: './dist/cjs/index.js' },
    },
    './testing': {
      import: { types: './dist/esm/testing.d.ts', default: './dist/esm/testing.js' },
      require: { types: './dist/cjs/testing.d.ts', default: './dist/cjs/testing.js' },
    },
    './package.json': './package.json',
  },
  // For TypeScript's older `node10` resolution, which reads no `exports`.
  typesVersions: { '*': { testing: ['./dist/cjs/testing.d.ts'] } },
  files: ['dist', 'README.md', 'LICENSE'],
  sideEffects: false,
  // Always needed, and safe to have twice in an app (no shared registry, own injection tokens).
  dependencies: Object.fromEntries(
    ['@nestjs/throttler', 'cookie', 'cookie-parser', 'lru-cache', 'passport-custom', 'ua-parser-js'].map((name) => [name, pinned(name)]),
  ),
  // The app's own copies: Nest itself, and packages whose state must be the app's (class-validator's
  // metadata, which Nest's ValidationPipe reads; passport's strategies).
  peerDependencies: {
    '@nestjs/common': '^11.0.0 || ^12.0.0',
    '@nestjs/core': '^11.0.0 || ^12.0.0',
    '@nestjs/passport': '^11.0.0 || ^12.0.0',
    passport: '^0.6.0 || ^0.7.0',
    'class-validator': '>=0.14.0',
    'class-transformer': '^0.5.0',
    'reflect-metadata': '^0.1.13 || ^0.2.0',
    rxjs: '^7.1.0',
    // Only some setups need these; the module loads each only when used (see README).
    typeorm: '^0.3.0 || ^1.0.0',
    pg: '^8.0.0',
    ioredis: '^5.0.0',
    'prom-client': '^14.0.0 || ^15.0.0',
    '@nestjs/swagger': '^11.0.0 || ^12.0.0',
    '@nestjs/event-emitter': '^3.0.0 || ^12.0.0',
  },
  peerDependenciesMeta: Object.fromEntries(
    ['typeorm', 'pg', 'ioredis', 'prom-client', '@nestjs/swagger', '@nestjs/event-emitter'].map((name) => [name, { optional: true }]),
  ),
};

function compile(kind, flags) {
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.package.json', '--outDir', join(STAGE, 'dist', kind), ...flags], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  writeFileSync(join(STAGE, 'dist', kind, 'package.json'), `${JSON.stringify({ type: kind === 'esm' ? 'module' : 'commonjs' })}\n`);
  const page = join('admin', 'admin-page');
  cpSync(join(ROOT, 'src', 'session', page), join(STAGE, 'dist', kind, page), {
    recursive: true,
    filter: (source) => !/\.ts$/.test(source),
  });
}

/** The one file that differs by module system: where this package sits (see runtime/module-file.ts). */
function writeEsmModuleFile() {
  const file = join(STAGE, 'dist', 'esm', 'runtime', 'module-file.js');
  const compiled = readFileSync(file, 'utf8');
  if (!compiled.includes('export const MODULE_FILE = __filename;')) {
    throw new Error(`build-package: ${file} no longer reads "export const MODULE_FILE = __filename;": update this script`);
  }
  writeFileSync(
    file,
    compiled
      .replace('export const MODULE_FILE = __filename;', 'export const MODULE_FILE = fileURLToPath(import.meta.url);')
      .replace(/^/, "import { fileURLToPath } from 'node:url';\n"),
  );
}

rmSync(STAGE, { recursive: true, force: true });
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
compile('cjs', ['--module', 'commonjs', '--moduleResolution', 'node10']);
compile('esm', ['--module', 'es2022', '--moduleResolution', 'bundler']);
writeEsmModuleFile();
writeFileSync(join(STAGE, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
cpSync(join(ROOT, 'src', 'session', 'README.md'), join(STAGE, 'README.md'));
cpSync(join(ROOT, 'LICENSE'), join(STAGE, 'LICENSE'));
execFileSync('npm', ['pack', '--pack-destination', OUT, '--silent'], { cwd: STAGE, stdio: ['ignore', 'ignore', 'inherit'] });
rmSync(STAGE, { recursive: true, force: true });
const [tarball] = readdirSync(OUT).filter((f) => f.endsWith('.tgz'));
console.log(`build-package: ${join('dist', 'package', tarball)}`);
