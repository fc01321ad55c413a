import { Histogram, Registry } from 'prom-client';
import type { RequestObserver } from '../http/request-observer';

/** Label of a request that matched no route: raw paths would give every scanner its own series. */
const UNMATCHED = 'unmatched';
/** A catch-all (`/{*splat}`, `/*`) is how a framework answers 404: not a route of the app's. */
const isCatchAll = (route: string) => route.includes('*');

/**
 * `http_request_duration_seconds{method, route, status_code}`: every answer, the ones refused by
 * a guard or a filter included, labelled by the route template (`/auth/sessions/:id`), never by
 * the raw URL. An observer for `observeRequests`.
 */
export function httpDurations(registry: Registry): RequestObserver {
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests, from arrival to the end of the answer',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return ({ method, route, status, ms }) =>
    histogram.observe({ method, route: route === undefined || isCatchAll(route) ? UNMATCHED : route, status_code: status }, ms / 1000);
}
