import { Global, Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { MetricsController } from './metrics.controller';
import { createMetricsRegistry } from './metrics.registry';

/** `GET /metrics` and the app's prom-client `Registry` (injectable by its class). */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [{ provide: Registry, useFactory: createMetricsRegistry }],
  exports: [Registry],
})
export class MetricsModule {}
