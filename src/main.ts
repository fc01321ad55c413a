import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { setupApp } from './app.setup';
import { AppEnv } from './config/app-env';
import { describeDatabase } from './database/database-options';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(), {
    bodyParser: false,
  });
  const env = app.get(AppEnv);
  setupApp(app, env);
  await app.listen(env.PORT);
  const logger = new Logger('Bootstrap');
  logger.log(`Database: ${describeDatabase(env)}`);
  logger.log(
    `Cache and rate limits: ${
      env.REDIS_CLUSTER_NODES
        ? `Redis Cluster at ${env.REDIS_CLUSTER_NODES}`
        : env.REDIS_URL
          ? `Redis at ${new URL(env.REDIS_URL).host}`
          : 'in process (no REDIS_URL)'
    }`,
  );
  logger.log(`Listening on port ${env.PORT}`);
}

void bootstrap();
