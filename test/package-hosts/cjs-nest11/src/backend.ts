import type { DynamicModule } from '@nestjs/common';
import { SessionModule } from 'nest-session-module';
import { USERS } from './users.module.js';

/** The contract's minimal use: a secret and the credentials, on the in-memory adapters. */
export function sessionModules(globalGuard: boolean): DynamicModule[] {
  return [SessionModule.forRoot({ secret: process.env.SESSION_SECRET!, credentials: USERS, globalGuard })];
}
