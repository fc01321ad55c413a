export { SessionModule } from './session.module.js';
export type { SessionModuleExtras } from './session.module-definition.js';
export { SessionService } from './session.service.js';
export { LoginService } from './login.service.js';
export { SessionCleanupService, SessionCleanupError } from './session-cleanup.service.js';
export type { CleanupResult } from './session-cleanup.service.js';
export { CleanupLock } from './ports/cleanup-lock.js';
export type { ExclusiveRun } from './ports/cleanup-lock.js';
export { LoginFailureCounter } from './ports/login-failure-counter.js';
export type { LoginFailurePolicy } from './ports/login-failure-counter.js';
export type { SessionModuleOptions, RateLimit, SessionStoreKind } from './session.options.js';
export type {
  AuthenticatedSession,
  IssuedSession,
  IssuedTokens,
  CreateSessionInput,
} from './session.types.js';
export { SessionStore } from './ports/session-store.js';
export { SessionCache } from './ports/session-cache.js';
export type { CachedSession } from './ports/session-cache.js';
export type { CredentialsVerifier, SessionUser } from './ports/credentials-verifier.js';
export type { SessionRecord, SessionMetadata, RevocationReason } from './ports/session-record.js';
export { Clock, SystemClock } from './ports/clock.js';
export { SessionAuthGuard } from './http/guards/session-auth.guard.js';
export { RolesGuard } from './http/guards/roles.guard.js';
export { SessionThrottlerGuard } from './http/guards/session-throttler.guard.js';
export { SessionStrategy, SESSION_STRATEGY } from './http/guards/session.strategy.js';
export { Public } from './http/decorators/public.decorator.js';
export { Roles } from './http/decorators/roles.decorator.js';
export { LoginThrottle } from './http/decorators/login-throttle.decorator.js';
export { FreshSession } from './http/decorators/fresh-session.decorator.js';
export { FreshSessionGuard } from './http/guards/fresh-session.guard.js';
export { SESSION_EVENT, SESSION_EVENT_TYPES, SessionEvent } from './session.events.js';
export type { SessionEventType } from './session.events.js';
export { CurrentUser, CurrentSession } from './http/decorators/current-session.decorator.js';
export type { CurrentUserInfo } from './http/decorators/current-session.decorator.js';
export { jsonSafety, refuseUnsafeJson, unsafeJsonReason } from './http/json-safety.middleware.js';
export { ErrorResponse } from './http/openapi/error-response.js';
export { ApiError, ApiValidationError, RETRY_AFTER_HEADER } from './http/openapi/api-error.decorator.js';
export type { ApiErrorOptions } from './http/openapi/api-error.decorator.js';
export { ApiSessionAuth, SESSION_SECURITY, addSessionSecuritySchemes } from './http/openapi/session-security.js';
export type { ApiSessionAuthOptions } from './http/openapi/session-security.js';
export { SessionEntity } from './adapters/typeorm/session.entity.js';
export { SessionEventPublisher } from './session-event.publisher.js';
export { SessionSweepService, IDLE_SWEEP_MARGIN_MS } from './session-sweep.service.js';
export type { SweepResult } from './session-sweep.service.js';
export { SessionStatsService } from './session-stats.service.js';
export type { SessionStats } from './session-stats.service.js';
export { SessionHealth } from './session-health.js';
export type { BackendHealth } from './session-health.js';
export { SessionMetrics } from './metrics/session-metrics.js';
export type { ValidationResult, CacheResult, RefreshResult } from './metrics/session-metrics.js';
export { AuditLog } from './ports/audit-log.js';
export type { AuditQuery, AuditPage } from './ports/audit-log.js';
export { SESSION_MIGRATIONS } from './adapters/typeorm/migrations/index.js';
export * from './errors/session.errors.js';
export { SessionConfigurationError } from './errors/session-configuration.error.js';

import { AuditEntryEntity } from './adapters/typeorm/audit-entry.entity.js';
import { ConcurrencySampleEntity } from './adapters/typeorm/concurrency-sample.entity.js';
import { RotatedRefreshTokenEntity } from './adapters/typeorm/rotated-refresh-token.entity.js';
import { SessionEntity } from './adapters/typeorm/session.entity.js';
/** The module's TypeORM entities: add them to your DataSource's `entities`. */
export const SESSION_ENTITIES = [SessionEntity, RotatedRefreshTokenEntity, AuditEntryEntity, ConcurrencySampleEntity];
