import { Controller, Get, Query, UseGuards, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditLog } from '../ports/audit-log.js';
import { SessionEventPublisher } from '../session-event.publisher.js';
import { SessionStatsService } from '../session-stats.service.js';
import { Roles } from './decorators/roles.decorator.js';
import { AuditQuery } from './dto/audit.query.js';
import { RolesGuard } from './guards/roles.guard.js';
import { SessionAuthGuard } from './guards/session-auth.guard.js';
import { ApiValidationError } from './openapi/api-error.decorator.js';
import { ApiSessionAuth } from './openapi/session-security.js';
import { AuditPageResponse } from './responses/audit-page.response.js';
import { presentAuditEntry } from './session.presenter.js';
import { SessionStatsResponse } from './responses/session-stats.response.js';
import { sessionValidationPipe } from './validation.pipe.js';

/** What operators look at: the statistics and the audit trail. Role `admin` only. */
@ApiTags('admin')
@Controller('admin')
@UseGuards(SessionAuthGuard, RolesGuard)
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
