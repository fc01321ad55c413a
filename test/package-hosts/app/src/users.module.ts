import { Module } from '@nestjs/common';
import { UsersService } from './users.service.js';

/** The one set of users, shared by the DI container and `SessionModule.forRoot({ credentials })`. */
export const USERS = new UsersService();

@Module({ providers: [{ provide: UsersService, useValue: USERS }], exports: [UsersService] })
export class UsersModule {}
