import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { PasswordController } from './password.controller';

/** What a logged-in user does to their own account (password change). */
@Module({
  imports: [UsersModule],
  controllers: [PasswordController],
})
export class AccountModule {}
