import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The app's Prometheus registry, one per app instance (so two apps in one process, as in the
 * tests, never share counters): Node's default series, the HTTP durations and the session
 * module's series.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
