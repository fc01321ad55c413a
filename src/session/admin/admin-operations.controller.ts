import { Get, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../http/openapi/swagger.js';
import { AuditLog } from '../ports/audit-log.js';
import { SessionEventPublisher } from '../session-event.publisher.js';
import { SessionStatsService } from '../session-stats.service.js';
import { Roles } from '../http/decorators/roles.decorator.js';
import { AuditQuery } from '../http/dto/audit.query.js';
import { RolesGuard } from '../http/guards/roles.guard.js';
import { SessionAuthGuard } from '../http/guards/session-auth.guard.js';
import { SessionThrottlerGuard } from '../http/guards/session-throttler.guard.js';
import { SessionExceptionFilter } from '../http/session-exception.filter.js';
import { ApiValidationError } from '../http/openapi/api-error.decorator.js';
import { ApiSessionAuth } from '../http/openapi/session-security.js';
import { AuditPageResponse } from '../http/responses/audit-page.response.js';
import { presentAuditEntry } from '../http/session.presenter.js';
import { SessionStatsResponse } from '../http/responses/session-stats.response.js';
import { sessionValidationPipe } from '../http/validation.pipe.js';

/** What operators look at: the statistics and the audit trail. Role `admin` only. */
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
}
