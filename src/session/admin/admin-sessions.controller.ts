import {
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Query,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '../http/openapi/swagger.js';
import { SessionNotFoundError } from '../errors/session.errors.js';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session.options.js';
import { SessionService } from '../session.service.js';
import { SessionSockets } from '../realtime/session-sockets.service.js';
import { CurrentUser, type CurrentUserInfo } from '../http/decorators/current-session.decorator.js';
import { Roles } from '../http/decorators/roles.decorator.js';
import { AdminSessionsQuery } from '../http/dto/admin-sessions.query.js';
import { RolesGuard } from '../http/guards/roles.guard.js';
import { SessionAuthGuard } from '../http/guards/session-auth.guard.js';
import { SessionThrottlerGuard } from '../http/guards/session-throttler.guard.js';
import { SessionExceptionFilter } from '../http/session-exception.filter.js';
import { ApiError, ApiValidationError } from '../http/openapi/api-error.decorator.js';
import { ApiSessionAuth } from '../http/openapi/session-security.js';
import { AdminSessionsPageResponse } from '../http/responses/admin-sessions-page.response.js';
import { RevokedCountResponse } from '../http/responses/revoked-count.response.js';
import { presentAdminSession } from '../http/session.presenter.js';
import { ParseUserIdPipe } from '../http/user-id.pipe.js';
import { sessionValidationPipe } from '../http/validation.pipe.js';

/** Who is logged in where, and the power to end it: role `admin` only. */
@ApiTags('admin')
@UseGuards(SessionThrottlerGuard, SessionAuthGuard, RolesGuard)
@UseFilters(SessionExceptionFilter)
@Roles('admin')
@UsePipes(sessionValidationPipe())
export class AdminSessionsController {
  constructor(
    private readonly sessions: SessionService,
    private readonly sockets: SessionSockets,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  @Get('sessions')
  @ApiOperation({ summary: 'Live sessions of every user (or of one), most recently active first' })
  @ApiSessionAuth({ roles: ['admin'] })
  @ApiOkResponse({ type: AdminSessionsPageResponse })
  @ApiValidationError(['limit must not be greater than 100'], 'A query parameter is out of range or malformed.')
  async list(@Query() query: AdminSessionsQuery) {
    const { items, total } = await this.sessions.page(query);
    const online = await this.sockets.onlineAmong(items.map((s) => s.id));
    return {
      items: items.map((s) => presentAdminSession(s, this.options.idleTtl, online.has(s.id))),
      total,
      page: query.page,
      limit: query.limit,
    };
  }

  @Delete('sessions/:id')
  @ApiOperation({ summary: "End any user's session" })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiSessionAuth({ roles: ['admin'], csrf: true })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiError(400, 'Validation failed (uuid is expected)', { description: 'The id is not a UUID.' })
  @ApiError(404, 'Session not found', { description: 'No live session has this id.' })
  @HttpCode(204)
  async revoke(@Param('id', new ParseUUIDPipe()) id: string, @CurrentUser() admin: CurrentUserInfo): Promise<void> {
    if (!(await this.sessions.revoke(id, 'revoked_by_admin', admin.id))) throw new SessionNotFoundError();
  }

  @Delete('users/:userId/sessions')
  @ApiOperation({ summary: 'End every session of a user' })
  @ApiParam({ name: 'userId', description: '1 to 128 printable characters.' })
  @ApiSessionAuth({ roles: ['admin'], csrf: true })
  @ApiOkResponse({ type: RevokedCountResponse })
  @ApiError(400, 'userId must be 1 to 128 printable characters')
  async revokeUser(@Param('userId', ParseUserIdPipe) userId: string, @CurrentUser() admin: CurrentUserInfo) {
    const revoked = await this.sessions.revokeAll(userId, { reason: 'revoked_by_admin', actorId: admin.id });
    return { revoked };
  }
}
