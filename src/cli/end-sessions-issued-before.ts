/**
 * Ends every session issued before a moment, without the HTTP API: the operators' step after
 * PostgreSQL was restored from a backup (sessions that ended after the backup was taken are live
 * again), for when the app is down or cannot be reached.
 *
 *   npm run sessions:end-issued-before -- 2026-12-01T10:00:00Z           from the sources
 *   node dist/cli/end-sessions-issued-before.js 2026-12-01T10:00:00Z     after `npm run build`
 *
 * It reads the app's environment (and `.env`) as `npm start` does: `DATABASE_URL`, or without it
 * the embedded database under `DATA_DIR` (stop the app first: one process at a time may open it);
 * `REDIS_URL` so the cache refuses the ended sessions at once. It prints the count on standard
 * output. Exit status: 0 done, 2 no valid moment (nothing ended), 1 failure.
 */
import { parseInstant } from './parse-instant';

const USAGE =
  'Usage: npm run sessions:end-issued-before -- <moment>\n' +
  '   or: node dist/cli/end-sessions-issued-before.js <moment>   (after npm run build)\n' +
  '  <moment>: ISO 8601 with a time zone, not in the future, e.g. 2026-12-01T10:00:00Z\n' +
  '  Ends every session created before <moment> that has not ended (reason not_before).';

async function main(args: string[]): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const before = parseInstant(args[0]);
  if (args.length !== 1 || !before) {
    process.stderr.write(`${args.length === 0 ? 'No moment given.' : `Not one moment with a time zone: ${args.join(' ')}`}\n${USAGE}\n`);
    return 2;
  }
  // Said before the app starts; the service checks it again.
  if (before.getTime() > Date.now()) {
    process.stderr.write('before must not be in the future\n');
    return 2;
  }
  try {
    process.loadEnvFile('.env');
  } catch {
    // no .env: the environment alone configures the app
  }
  // Loaded only now: a mistyped moment is answered without starting the app.
  const { endIssuedBefore, InvalidNotBeforeError } = await import('./end-issued-before.run');
  try {
    const { ended, database } = await endIssuedBefore(before, process.env);
    process.stdout.write(`Ended ${ended} ${ended === 1 ? 'session' : 'sessions'} issued before ${before.toISOString()} (${database}).\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof InvalidNotBeforeError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`Failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
