import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { destination } from 'pino';
import { AppModule } from '../app.module';
import { AppEnv } from '../config/app-env';
import { describeDatabase } from '../database/database-options';
import { InvalidNotBeforeError, SessionService } from '../session';

/** What one run did: how many sessions ended, and in which database. */
export interface EndIssuedBeforeOutcome {
  ended: number;
  database: string;
}

/**
 * Starts the app without HTTP (an application context on the app's environment), ends every
 * session issued before `before`, and closes the app: pending audit entries and cache marks are
 * written first, as at any shutdown. Logs go to standard error, at `LOG_LEVEL` (default `warn`).
 * @param env the app's variables (`process.env` plus `.env`)
 * @throws InvalidNotBeforeError when `before` is in the future by the app's clock
 */
export async function endIssuedBefore(before: Date, env: Record<string, string | undefined>): Promise<EndIssuedBeforeOutcome> {
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot(
      {
        ...env,
        // A short run: no sweep or cleanup of its own (the app's instances do those).
        SESSION_SWEEP_INTERVAL: '0',
        SESSION_CLEANUP_INTERVAL: '0',
        LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
      },
      { destination: destination({ dest: 2, sync: true }) },
    ),
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  try {
    const ended = await app.get(SessionService).endSessionsIssuedBefore(before);
    return { ended, database: describeDatabase(app.get(AppEnv)) };
  } finally {
    await app.close();
  }
}

export { InvalidNotBeforeError };
