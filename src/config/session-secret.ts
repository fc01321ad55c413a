import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppEnv } from './app-env';

/**
 * The token keys: `SESSION_SECRET` (comma-separated, first signs), required in production;
 * elsewhere made once and kept in `DATA_DIR/session-secret` so sessions survive restarts.
 */
export function loadSessionSecrets(env: AppEnv): string[] {
  if (env.SESSION_SECRET) {
    return env.SESSION_SECRET.split(',').map((s) => s.trim()).filter(Boolean);
  }
  if (env.NODE_ENV === 'production') {
    throw new Error(
      'SESSION_SECRET is required when NODE_ENV=production. Generate one with: openssl rand -base64 48',
    );
  }
  const file = join(env.DATA_DIR, 'session-secret');
  try {
    return [readFileSync(file, 'utf8').trim()];
  } catch {
    mkdirSync(env.DATA_DIR, { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return [secret];
  }
}
