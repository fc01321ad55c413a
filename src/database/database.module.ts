import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppEnv } from '../config/app-env';
import { databaseOptions } from './database-options';

/** The app's one TypeORM DataSource: PostgreSQL with DATABASE_URL, else embedded PGlite. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppEnv],
      useFactory: (env: AppEnv) => ({ ...databaseOptions(env), retryAttempts: 3, retryDelay: 1000 }),
    }),
  ],
})
export class DatabaseModule {}
