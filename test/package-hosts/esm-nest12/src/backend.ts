import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { redisSessionAdapters, SESSION_MIGRATIONS, SessionModule, typeOrmSessionAdapters } from 'nest-session-module';
import { DataSource } from 'typeorm';
import { ArrayAuditLog } from './array-audit-log.js';
import { UsersModule } from './users.module.js';
import { UsersService } from './users.service.js';

/** Sessions in PostgreSQL (DATABASE_URL), cached in Redis (REDIS_URL), audited by the host's own adapter. */
export function sessionModules(globalGuard: boolean): DynamicModule[] {
  return [
    TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, migrations: SESSION_MIGRATIONS, migrationsRun: true }),
    SessionModule.forRootAsync({
      imports: [UsersModule],
      inject: [DataSource, UsersService],
      useFactory: (dataSource: DataSource, users: UsersService) => ({
        secret: process.env.SESSION_SECRET!,
        credentials: users,
        ...typeOrmSessionAdapters(dataSource),
        ...redisSessionAdapters(process.env.REDIS_URL!, { keyPrefix: process.env.REDIS_KEY_PREFIX }),
        auditLog: new ArrayAuditLog(),
      }),
      globalGuard,
    }),
  ];
}
