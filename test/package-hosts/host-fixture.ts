import { ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../support/private-postgres';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const HOSTS = __dirname;
const PACKAGE_DIR = join(ROOT, 'dist', 'package');

/** Newest modification time under `dir` (files only). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * The packed package, built by `npm run build:package` unless a tarball newer than every source
 * of the module is there already.
 */
export async function packedTarball(): Promise<string> {
  const existing = existsSync(PACKAGE_DIR) ? readdirSync(PACKAGE_DIR).filter((f) => f.endsWith('.tgz')) : [];
  const sources = Math.max(newest(join(ROOT, 'src', 'session')), statSync(join(ROOT, 'scripts', 'build-package.mjs')).mtimeMs);
  if (existing.length === 1 && statSync(join(PACKAGE_DIR, existing[0])).mtimeMs > sources) return join(PACKAGE_DIR, existing[0]);
  await run('npm', ['run', '--silent', 'build:package'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const [tarball] = readdirSync(PACKAGE_DIR).filter((f) => f.endsWith('.tgz'));
  return join(PACKAGE_DIR, tarball);
}

/**
 * One fixture host app (test/package-hosts/<name>) in a directory of its own: the shared host
 * sources (app/src), the fixture's own package.json, tsconfig and backend, the package installed
 * from its tarball with the fixture's dependencies, and built with the fixture's own TypeScript.
 */
export class HostFixture {
  private constructor(
    readonly name: string,
    readonly dir: string,
  ) {}

  static async install(name: string, tarball: string): Promise<HostFixture> {
    const dir = mkdtempSync(join(tmpdir(), `session-host-${name}-`));
    cpSync(join(HOSTS, 'app', 'src'), join(dir, 'src'), { recursive: true });
    cpSync(join(HOSTS, name), dir, { recursive: true });
    const manifest = join(dir, 'package.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('file:PACKAGE_TARBALL', `file:${tarball}`));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
    });
    return new HostFixture(name, dir);
  }

  /** `tsc -p tsconfig.build.json` with the fixture's own TypeScript; rejects with tsc's output on an error. */
  async build(): Promise<void> {
    await run(process.execPath, [join(this.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: this.dir,
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`${this.name}: tsc failed\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
  }

  /** Runs one of the fixture's npm scripts, with these arguments. */
  async script(name: string, args: string[] = []): Promise<string> {
    const { stdout } = await run('npm', ['run', '--silent', name, '--', ...args], { cwd: this.dir, maxBuffer: 16 * 1024 * 1024 });
    // Without the colours the fixture's tools add.
    return stdout.replace(/\u001b\[[0-9;]*m/g, '');
  }

  /** Starts `node dist/main.js` and waits for it to listen. */
  async start(env: Record<string, string>): Promise<RunningHost> {
    const port = await freePort();
    const child = spawn(process.execPath, [join(this.dir, 'dist', 'main.js')], {
      cwd: this.dir,
      env: { PATH: process.env.PATH, PORT: String(port), SESSION_SECRET: 'fixture-secret-fixture-secret-fixture-secret', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const host = new RunningHost(child, `http://127.0.0.1:${port}`);
    await host.listening();
    return host;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A started fixture: its base URL and everything it wrote. */
export class RunningHost {
  output = '';

  constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  listening(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`host did not listen within ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      const check = () => {
        if (this.output.includes('host listening on')) {
          clearTimeout(timer);
          resolve();
        }
      };
      this.child.stdout!.on('data', check);
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`host exited with ${code} before listening:\n${this.output}`));
      });
    });
  }

  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      this.child.kill('SIGTERM');
    });
  }
}
