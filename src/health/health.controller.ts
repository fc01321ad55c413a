import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public, SessionHealth } from '../session';
import type { BackendHealth } from '../session';

/** Milliseconds the database gets to answer `SELECT 1` before it counts as down. */
const DATABASE_TIMEOUT_MS = 2000;

/**
 * Liveness and readiness in one: 503 only when PostgreSQL, which the service cannot work
 * without, is unreachable. Redis is reported (`cache: {status: "down"}`) but never fails the
 * check: without it the service still works, on PostgreSQL and in-process counters.
 */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly session: SessionHealth,
  ) {}

  @Get()
  @Public()
  @HealthCheck()
  @ApiOperation({ summary: 'Health of the service: database (required) and cache (reported, optional)' })
  @ApiOkResponse({
    description: 'The database answers. `info.cache.status` is `down` when Redis is unreachable (the service keeps working).',
    schema: { example: { status: 'ok', info: { database: { status: 'up' }, cache: { status: 'up', backend: 'redis' } }, error: {}, details: {} } },
  })
  @ApiServiceUnavailableResponse({ description: 'The database is unreachable.' })
  async check(): Promise<HealthCheckResult> {
    const cache = this.session.cacheHealth();
    try {
      const result = await this.health.check([() => this.database.pingCheck('database').withTimeout(DATABASE_TIMEOUT_MS)]);
      return withCache(result, await cache);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      throw new ServiceUnavailableException(withCache(error.getResponse() as HealthCheckResult, await cache));
    }
  }
}

function withCache(result: HealthCheckResult, cache: BackendHealth): HealthCheckResult {
  const entry = { cache };
  return {
    ...result,
    info: { ...result.info, ...entry },
    details: { ...result.details, ...entry },
  };
}
