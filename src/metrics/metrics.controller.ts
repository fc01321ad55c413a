import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { Public } from '../session';

/**
 * Prometheus text exposition of the app's registry. Public, as the contract says: in production
 * bind it privately (a network policy, or a reverse proxy that does not forward `/metrics`).
 */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get()
  @Public()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics: sessions, cache, logins, refreshes, revocations, HTTP durations, Node' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4.', schema: { type: 'string' } })
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
