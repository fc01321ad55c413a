import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger, type LoggerService } from '@nestjs/common';
import type { AppEnv } from './app-env';

/** Where the start-up line about a secret kept under DATA_DIR goes. */
export type SessionSecretLogger = Pick<LoggerService, 'log' | 'warn'>;

/**
 * The token keys: `SESSION_SECRET` (comma-separated, first signs), required in production;
 * elsewhere made once and kept in `DATA_DIR/session-secret` so sessions survive restarts.
 *
 * Without `SESSION_SECRET` it logs one line saying whether it made a new secret (a warning) or
 * uses the one kept in the file; never the secret itself. The default logger is Nest's `Logger`,
 * which the app buffers until its JSON logger is installed, so the line lands in the app's log.
 */
export function loadSessionSecrets(
  env: AppEnv,
  logger: SessionSecretLogger = new Logger('SessionSecret'),
): string[] {
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
    const kept = readFileSync(file, 'utf8').trim();
    logger.log(`SESSION_SECRET not set: using the secret kept in ${file}`);
    return [kept];
  } catch {
    mkdirSync(env.DATA_DIR, { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    logger.warn(`SESSION_SECRET not set: generated a new secret in ${file}; set SESSION_SECRET in production`);
    return [secret];
  }
}
