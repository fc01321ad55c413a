import { Body, Get, HttpCode, Post, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../http/openapi/swagger.js';
import { AuditLog } from '../ports/audit-log.js';
import { SessionEventPublisher } from '../session-event.publisher.js';
import { SessionStatsService } from '../session-stats.service.js';
import { SessionService } from '../session.service.js';
import { CurrentUser, type CurrentUserInfo } from '../http/decorators/current-session.decorator.js';
import { Roles } from '../http/decorators/roles.decorator.js';
import { AuditQuery } from '../http/dto/audit.query.js';
import { EndIssuedBeforeDto } from '../http/dto/end-issued-before.dto.js';
import { RolesGuard } from '../http/guards/roles.guard.js';
import { SessionAuthGuard } from '../http/guards/session-auth.guard.js';
import { SessionThrottlerGuard } from '../http/guards/session-throttler.guard.js';
import { SessionExceptionFilter } from '../http/session-exception.filter.js';
import { ApiValidationError } from '../http/openapi/api-error.decorator.js';
import { ApiSessionAuth } from '../http/openapi/session-security.js';
import { AuditPageResponse } from '../http/responses/audit-page.response.js';
import { presentAuditEntry } from '../http/session.presenter.js';
import { SessionStatsResponse } from '../http/responses/session-stats.response.js';
import { RevokedBeforeResponse } from '../http/responses/revoked-before.response.js';
import { sessionValidationPipe } from '../http/validation.pipe.js';

/**
 * What operators look at and do: the statistics, the audit trail, and ending every session issued
 * before a moment (after a database restore). Role `admin` only.
 */
@ApiTags('admin')
@UseGuards(SessionThrottlerGuard, SessionAuthGuard, RolesGuard)
@UseFilters(SessionExceptionFilter)
@Roles('admin')
@UsePipes(sessionValidationPipe())
export class AdminOperationsController {
  constructor(
    private readonly stats: SessionStatsService,
    private readonly audit: AuditLog,
    private readonly events: SessionEventPublisher,
    private readonly sessions: SessionService,
  ) {}

  @Get('sessions/stats')
  @ApiOperation({ summary: 'Session statistics: live now, created, revoked and expired in the last 24 h, durations, peak, failures' })
  @ApiSessionAuth({ roles: ['admin'] })
  @ApiOkResponse({ type: SessionStatsResponse })
  sessionStats(): Promise<SessionStatsResponse> {
    return this.stats.stats();
  }

  @Get('audit')
  @ApiOperation({ summary: 'The audit trail: every lifecycle event, newest first, by user and type' })
  @ApiSessionAuth({ roles: ['admin'] })
  @ApiOkResponse({ type: AuditPageResponse })
  @ApiValidationError(['type must be one of: login, login_failed, …'], 'A query parameter is out of range or malformed.')
  async auditTrail(@Query() query: AuditQuery): Promise<AuditPageResponse> {
    await this.events.flush();
    const { items, total } = await this.audit.page({
      userId: query.userId,
      type: query.type,
      offset: (query.page - 1) * query.limit,
      limit: query.limit,
    });
    return { items: items.map(presentAuditEntry), total, page: query.page, limit: query.limit };
  }

  @Post('sessions/end-issued-before')
  @HttpCode(200)
  @ApiOperation({
    summary: 'End every session issued before a moment, of every user (after restoring PostgreSQL from a backup)',
    description:
      'Sessions created before `before` that have not ended are revoked (reason `not_before`), in batches of 1,000; ' +
      'each gets a `revoked` audit entry. The caller\'s own session ends too when it was issued before the moment.',
  })
  @ApiSessionAuth({ roles: ['admin'], csrf: true })
  @ApiOkResponse({ type: RevokedBeforeResponse })
  @ApiValidationError(
    ['before must be an ISO 8601 date and time with a time zone, e.g. 2026-12-01T10:00:00Z'],
    'before is missing, not an ISO 8601 date and time with a time zone, or in the future (nothing is ended).',
  )
  async endIssuedBefore(@Body() body: EndIssuedBeforeDto, @CurrentUser() admin: CurrentUserInfo): Promise<RevokedBeforeResponse> {
    const before = new Date(body.before);
    const revoked = await this.sessions.endSessionsIssuedBefore(before, admin.id);
    return { revoked, before: before.toISOString() };
  }
}
