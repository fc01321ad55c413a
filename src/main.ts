import { Logger } from '@nestjs/common';
import { pino } from 'pino';
import { createApp } from './app.factory';
import { AppEnv } from './config/app-env';
import { describeDatabase } from './database/database-options';

async function bootstrap(): Promise<void> {
  try {
    process.loadEnvFile('.env');
  } catch {
    // no .env: the environment alone configures the app
  }
  const app = await createApp();
  const env = app.get(AppEnv);
  await app.listen(env.PORT, '0.0.0.0');
  const logger = new Logger('Bootstrap');
  logger.log(`HTTP: ${env.HTTP_ADAPTER}`);
  logger.log(`Database: ${describeDatabase(env)}`);
  logger.log(
    `Cache and rate limits: ${
      env.REDIS_CLUSTER_NODES
        ? `Redis Cluster at ${env.REDIS_CLUSTER_NODES}`
        : env.REDIS_SENTINELS
          ? `Redis master ${env.REDIS_SENTINEL_NAME} of the Sentinels at ${env.REDIS_SENTINELS}`
          : env.REDIS_URL
          ? `Redis at ${new URL(env.REDIS_URL).host}`
          : 'in process (no REDIS_URL)'
    }`,
  );
  logger.log(`Listening on port ${env.PORT}`);
}

bootstrap().catch((error: unknown) => {
  // The app's logger may not exist yet (a bad environment, say): a plain pino line, JSON as well.
  pino().fatal({ err: error }, 'Start-up failed');
  process.exit(1);
});
