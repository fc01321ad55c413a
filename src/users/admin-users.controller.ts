import { Body, Controller, Param, ParseUUIDPipe, Patch, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiError, ApiSessionAuth, ApiValidationError, CurrentUser, Roles, type CurrentUserInfo } from '../session';
import { UpdateUserRolesDto } from './dto/update-user-roles.dto';
import { UserRolesResponse } from './dto/user-roles.response';
import { ADMIN_ROLE, UserRolesService } from './user-roles.service';

/** The app's user administration: role `admin` only (the global guard enforces `@Roles`). */
@ApiTags('admin')
@Controller('admin/users')
@Roles(ADMIN_ROLE)
export class AdminUsersController {
  constructor(private readonly roles: UserRolesService) {}

  @Patch(':userId')
  @ApiOperation({
    summary: 'Set a user’s roles',
    description:
      'Stored for new logins, and written to the user’s live sessions: every instance judges their next request by the new roles within 100 ms, without a new login.',
  })
  @ApiParam({ name: 'userId', format: 'uuid' })
  @ApiSessionAuth({ roles: [ADMIN_ROLE], csrf: true })
  @ApiOkResponse({ type: UserRolesResponse })
  @ApiValidationError(['each role must be 1 to 64 letters, digits, _ . : or -', 'property name should not exist'], 'The id is not a UUID, or the body is not `{roles: string[]}`.')
  @ApiError(404, 'User not found')
  @ApiError(409, 'The last admin cannot lose the admin role')
  @UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
  update(
    @Param('userId', new ParseUUIDPipe()) userId: string,
    @Body() body: UpdateUserRolesDto,
    @CurrentUser() admin: CurrentUserInfo,
  ): Promise<UserRolesResponse> {
    return this.roles.setRoles(userId, body.roles, admin.id);
  }
}
