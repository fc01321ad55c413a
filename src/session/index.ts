export { SessionModule } from './session.module';
export type { SessionModuleExtras } from './session.module-definition';
export { SessionService } from './session.service';
export { LoginService } from './login.service';
export { SessionCleanupService, SessionCleanupError } from './session-cleanup.service';
export type { CleanupResult } from './session-cleanup.service';
export { CleanupLock } from './ports/cleanup-lock';
export type { ExclusiveRun } from './ports/cleanup-lock';
export { LoginFailureCounter } from './ports/login-failure-counter';
export type { LoginFailurePolicy } from './ports/login-failure-counter';
export type { SessionModuleOptions, RateLimit, SessionStoreKind } from './session.options';
export type {
  AuthenticatedSession,
  IssuedSession,
  IssuedTokens,
  CreateSessionInput,
} from './session.types';
export { SessionStore } from './ports/session-store';
export { SessionCache } from './ports/session-cache';
export type { CachedSession } from './ports/session-cache';
export type { CredentialsVerifier, SessionUser } from './ports/credentials-verifier';
export type { SessionRecord, SessionMetadata, RevocationReason } from './ports/session-record';
export { Clock, SystemClock } from './ports/clock';
export { SessionAuthGuard } from './http/guards/session-auth.guard';
export { RolesGuard } from './http/guards/roles.guard';
export { SessionThrottlerGuard } from './http/guards/session-throttler.guard';
export { SessionStrategy, SESSION_STRATEGY } from './http/guards/session.strategy';
export { Public } from './http/decorators/public.decorator';
export { Roles } from './http/decorators/roles.decorator';
export { LoginThrottle } from './http/decorators/login-throttle.decorator';
export { FreshSession } from './http/decorators/fresh-session.decorator';
export { FreshSessionGuard } from './http/guards/fresh-session.guard';
export { SESSION_EVENT, SESSION_EVENT_TYPES, SessionEvent } from './session.events';
export type { SessionEventType } from './session.events';
export { CurrentUser, CurrentSession } from './http/decorators/current-session.decorator';
export type { CurrentUserInfo } from './http/decorators/current-session.decorator';
export { jsonSafety, refuseUnsafeJson, unsafeJsonReason } from './http/json-safety.middleware';
export { ErrorResponse } from './http/openapi/error-response';
export { ApiError, ApiValidationError, RETRY_AFTER_HEADER } from './http/openapi/api-error.decorator';
export type { ApiErrorOptions } from './http/openapi/api-error.decorator';
export { ApiSessionAuth, SESSION_SECURITY, addSessionSecuritySchemes } from './http/openapi/session-security';
export type { ApiSessionAuthOptions } from './http/openapi/session-security';
export { SessionEntity } from './adapters/typeorm/session.entity';
export { SessionEventPublisher } from './session-event.publisher';
export { SessionSweepService, IDLE_SWEEP_MARGIN_MS } from './session-sweep.service';
export type { SweepResult } from './session-sweep.service';
export { SessionStatsService } from './session-stats.service';
export type { SessionStats } from './session-stats.service';
export { SessionHealth } from './session-health';
export type { BackendHealth } from './session-health';
export { SessionMetrics } from './metrics/session-metrics';
export type { ValidationResult, CacheResult, RefreshResult } from './metrics/session-metrics';
export { AuditLog } from './ports/audit-log';
export type { AuditQuery, AuditPage } from './ports/audit-log';
export { SESSION_MIGRATIONS } from './adapters/typeorm/migrations';
export * from './errors/session.errors';
export { SessionConfigurationError } from './errors/session-configuration.error';

import { AuditEntryEntity } from './adapters/typeorm/audit-entry.entity';
import { ConcurrencySampleEntity } from './adapters/typeorm/concurrency-sample.entity';
import { RotatedRefreshTokenEntity } from './adapters/typeorm/rotated-refresh-token.entity';
import { SessionEntity } from './adapters/typeorm/session.entity';
/** The module's TypeORM entities: add them to your DataSource's `entities`. */
export const SESSION_ENTITIES = [SessionEntity, RotatedRefreshTokenEntity, AuditEntryEntity, ConcurrencySampleEntity];
