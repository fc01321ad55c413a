import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Query,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { SessionNotFoundError } from '../errors/session.errors';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants';
import type { ResolvedSessionOptions } from '../session.options';
import { SessionService } from '../session.service';
import { Roles } from './decorators/roles.decorator';
import { AdminSessionsQuery } from './dto/admin-sessions.query';
import { RolesGuard } from './guards/roles.guard';
import { SessionAuthGuard } from './guards/session-auth.guard';
import { presentAdminSession } from './session.presenter';
import { ParseUserIdPipe } from './user-id.pipe';
import { sessionValidationPipe } from './validation.pipe';

/** Who is logged in where, and the power to end it: role `admin` only. */
@Controller('admin')
@UseGuards(SessionAuthGuard, RolesGuard)
@Roles('admin')
@UsePipes(sessionValidationPipe())
export class AdminSessionsController {
  constructor(
    private readonly sessions: SessionService,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  @Get('sessions')
  async list(@Query() query: AdminSessionsQuery) {
    const { items, total } = await this.sessions.page(query);
    return {
      items: items.map((s) => presentAdminSession(s, this.options.idleTtl)),
      total,
      page: query.page,
      limit: query.limit,
    };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  async revoke(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    if (!(await this.sessions.revoke(id, 'revoked_by_admin'))) throw new SessionNotFoundError();
  }

  @Delete('users/:userId/sessions')
  async revokeUser(@Param('userId', ParseUserIdPipe) userId: string) {
    const revoked = await this.sessions.revokeAll(userId, { reason: 'revoked_by_admin' });
    return { revoked };
  }
}
