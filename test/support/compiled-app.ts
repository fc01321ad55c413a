import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** `main.js` of the app compiled from this checkout's `src/` (into `dist/.e2e-app`, rebuilt when stale). */
export function compiledMain(): string {
  const outDir = join(ROOT, 'dist', '.e2e-app');
  const main = join(outDir, 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(ROOT, 'src'))) return main;
  mkdirSync(outDir, { recursive: true });
  const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false'], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const pageDir = join('session', 'admin', 'admin-page');
  cpSync(join(ROOT, 'src', pageDir), join(outDir, pageDir), { recursive: true, filter: (source) => !/\.ts$/.test(source) });
  return main;
}

/** The compiled app in a process of its own, up (GET /ping answers) on `port`. */
export async function spawnApp(env: Record<string, string>, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [compiledMain()], { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const upBy = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${port}/ping`).then((r) => r.ok, () => false);
    if (up) return { child, output: () => output };
    if (Date.now() > upBy || child.exitCode !== null) throw new Error(`the app did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
