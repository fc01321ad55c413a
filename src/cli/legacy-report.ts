/**
 * How many express-session + connect-redis sessions are still waiting to be upgraded: the number
 * that tells a team when the migration bridge can be switched off (see README, "Migrating from
 * express-session"). It counts the keys under `LEGACY_SESSION_PREFIX` in the legacy Redis with
 * SCAN, 1,000 keys per call (never KEYS, which would block that Redis), and reads nothing else.
 *
 *   npm run sessions:legacy-report                 from the sources
 *   node dist/cli/legacy-report.js                 after `npm run build`
 *
 * It reads the app's environment (and `.env`): `LEGACY_SESSION_REDIS_URL` (else `REDIS_URL`),
 * `LEGACY_SESSION_PREFIX`, `LEGACY_SESSION_SECRET` (set: the bridge is on). Exit status: 0 counted,
 * 2 the bridge is not configured, 1 failure (Redis unreachable).
 */
import { ExpressSessionLegacySource } from '../session';

async function main(env: NodeJS.ProcessEnv): Promise<number> {
  const redis = env.LEGACY_SESSION_REDIS_URL || env.REDIS_URL;
  if (!env.LEGACY_SESSION_SECRET || !redis) {
    process.stderr.write('The migration bridge is not configured: set LEGACY_SESSION_SECRET and LEGACY_SESSION_REDIS_URL (or REDIS_URL).\n');
    return 2;
  }
  const prefix = env.LEGACY_SESSION_PREFIX || 'sess:';
  const source = new ExpressSessionLegacySource({ secret: env.LEGACY_SESSION_SECRET.split(','), redis, prefix });
  try {
    await source.start();
    const waiting = await source.countWaiting();
    process.stdout.write(`${waiting} express-session ${waiting === 1 ? 'session' : 'sessions'} waiting to be upgraded (keys ${prefix}*).\n`);
    return 0;
  } finally {
    await source.close();
  }
}

try {
  process.loadEnvFile('.env');
} catch {
  // no .env: the environment alone configures it
}
main(process.env).then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`Failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
