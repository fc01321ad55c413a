import { Module } from '@nestjs/common';
import { AdminUsersController } from './admin-users.controller';
import { UserRolesService } from './user-roles.service';

/** What an admin does to users' accounts (their roles). Uses `SessionService`, so it comes after `SessionModule`. */
@Module({
  controllers: [AdminUsersController],
  providers: [UserRolesService],
})
export class UserAdminModule {}
