/**
 * The public surface of the session module: what an app imports, and nothing the module keeps to
 * itself. Contract suites for custom adapters are in the `testing` entry.
 */

// The modules and their options
export { SessionModule } from './session.module.js';
export type { SessionModuleExtras } from './session.module-definition.js';
export type { SessionModuleOptions, RateLimit } from './session.options.js';
export { SessionAdminModule } from './admin/session-admin.module.js';
export type { SessionAdminModuleOptions } from './admin/session-admin.module.js';

// Services
export { SessionService } from './session.service.js';
export { LoginService } from './login.service.js';
export { PasswordAttempts } from './password-attempts.js';
export type { PasswordAttempt } from './password-attempts.js';
export { SessionIssuer } from './http/session-issuer.js';
export type { IssueOptions, IssuerRequest } from './http/session-issuer.js';
export type { MetadataRequest } from './http/request-metadata.js';
export type { IssuedSessionBody } from './http/session.presenter.js';
export { SessionStatsService } from './session-stats.service.js';
export type { AccountFailures, SessionStats } from './session-stats.service.js';
export { SessionHealth } from './session-health.js';
export type { BackendHealth } from './session-health.js';
export { SessionCleanupService, SessionCleanupError } from './session-cleanup.service.js';
export type { CleanupResult } from './session-cleanup.service.js';
export { SessionSweepService } from './session-sweep.service.js';
export type { SweepResult } from './session-sweep.service.js';
export { SESSION_EVENT, SESSION_EVENT_TYPES, SESSION_OFFLINE, SESSION_ONLINE, SessionEvent } from './session.events.js';
export type { SessionEventType } from './session.events.js';
export { NewDeviceDetector } from './new-device/new-device-detector.js';
export { NewDeviceEvent } from './new-device/new-device.event.js';
export type { NewDeviceLogin } from './new-device/new-device.event.js';
export type { ClientDescription, Novelty } from './new-device/client-novelty.js';
export type {
  AuthenticatedSession,
  CreateSessionInput,
  IssuedSession,
  IssuedTokens,
} from './session.types.js';

// Guards, decorators and HTTP helpers
export { SessionAuthGuard } from './http/guards/session-auth.guard.js';
export { RolesGuard } from './http/guards/roles.guard.js';
export { FreshSessionGuard } from './http/guards/fresh-session.guard.js';
export { SessionThrottlerGuard } from './http/guards/session-throttler.guard.js';
export { SessionUserThrottlerGuard } from './http/guards/session-user-throttler.guard.js';
export { SessionStrategy, SESSION_STRATEGY } from './http/guards/session.strategy.js';
export type { SessionUserRef } from './http/guards/session.strategy.js';
export { Public } from './http/decorators/public.decorator.js';
export { Roles } from './http/decorators/roles.decorator.js';
export { FreshSession } from './http/decorators/fresh-session.decorator.js';
export { LoginThrottle } from './http/decorators/login-throttle.decorator.js';
export { ChecksPassword } from './http/decorators/checks-password.decorator.js';
export { CurrentUser, CurrentSession } from './http/decorators/current-session.decorator.js';
export type { CurrentUserInfo } from './http/decorators/current-session.decorator.js';
export { requestSession } from './http/request-session.js';
export { SessionExceptionFilter } from './http/session-exception.filter.js';
export { jsonSafety, refuseUnsafeJson, unsafeJsonReason } from './http/json-safety.middleware.js';
export { JsonBodyGuard, carriesNonJsonBody } from './http/guards/json-body.guard.js';
export { MaxChars, charCount } from './http/dto/max-chars.js';
export { normalizeEmail } from './normalize-email.js';

// Real-time: authenticated gateways (socket.io or ws), socket presence, sockets closed when their session ends
export { SessionSockets } from './realtime/session-sockets.service.js';
export type { SocketCredentials } from './realtime/session-sockets.service.js';
export { authenticateSockets } from './realtime/authenticate-sockets.js';
export type { SocketAuthOptions, UpgradeRequest, WebSocketAdapterLike } from './realtime/authenticate-sockets.js';
export { SessionSocketGuard } from './realtime/session-socket.guard.js';
export { SESSION_ENDED_EVENT, UNAUTHORIZED_CLOSE_CODE } from './realtime/socket-handle.js';
export type { SocketHandshake } from './realtime/socket-handshake.js';

// OpenAPI (with @nestjs/swagger installed)
export { ErrorResponse } from './http/openapi/error-response.js';
export { ApiError, ApiValidationError, RETRY_AFTER_HEADER } from './http/openapi/api-error.decorator.js';
export type { ApiErrorOptions } from './http/openapi/api-error.decorator.js';
export { ApiPasswordCheckLimits, ApiRateLimited } from './http/openapi/api-rate-limits.decorator.js';
export { ApiSessionAuth, SESSION_SECURITY, addSessionSecuritySchemes } from './http/openapi/session-security.js';
export type { ApiSessionAuthOptions } from './http/openapi/session-security.js';

// Ports: what an adapter implements
export { SessionStore } from './ports/session-store.js';
export { SessionCache, REVOKED, UNAVAILABLE } from './ports/session-cache.js';
export type { CachedSession, CacheLookup, SupersededSession } from './ports/session-cache.js';
export type { CacheState, KeyMemorySample, ObservableSessionCache } from './ports/cache-observation.js';
export { AuditLog, AUDIT_TEXT_LIMITS, fitForAudit } from './ports/audit-log.js';
export type { AuditQuery, AuditPage, UserCount } from './ports/audit-log.js';
export { HousekeepingLock, HOUSEKEEPING_JOBS } from './ports/housekeeping-lock.js';
export type { ExclusiveRun } from './ports/housekeeping-lock.js';
export { LoginFailureCounter, blockSeconds } from './ports/login-failure-counter.js';
export type { LoginFailurePolicy } from './ports/login-failure-counter.js';
export { Clock, SystemClock } from './ports/clock.js';
export type { CredentialsVerifier, SessionUser } from './ports/credentials-verifier.js';
export type { AdapterContext, AdapterLifecycle } from './ports/adapter-lifecycle.js';
export { SocketPresence } from './ports/socket-presence.js';
export type { OfflineSession, SessionEnd, SocketEntry, SocketLocation } from './ports/socket-presence.js';
export { isLive, liveWindow, toSessionInfo } from './ports/session-record.js';
export type {
  ClientSighting,
  EndedCursor,
  EndedFilter,
  IssuedBeforeBatch,
  IssuedCursor,
  LiveWindow,
  NewSessionRecord,
  RecentClientsQuery,
  RevocationFilter,
  RevocationReason,
  Rotation,
  RotationTarget,
  SessionChange,
  SessionInfo,
  SessionMetadata,
  SessionPage,
  SessionPageQuery,
  SessionRecord,
  SessionSummary,
} from './ports/session-record.js';

// Adapters: in memory (the defaults), PostgreSQL through TypeORM, Redis through ioredis
export { MemorySessionStore } from './adapters/memory/memory-session.store.js';
export { MemorySessionCache } from './adapters/memory/memory-session.cache.js';
export { MemoryAuditLog } from './adapters/memory/memory-audit.log.js';
export { MemoryHousekeepingLock } from './adapters/memory/memory-housekeeping.lock.js';
export { MemoryLoginFailureCounter } from './adapters/memory/memory-login-failure.counter.js';
export { MemoryThrottlerStorage } from './adapters/memory/memory-throttler.storage.js';
export { MemorySocketPresence } from './adapters/memory/memory-socket.presence.js';
export { typeOrmSessionAdapters } from './adapters/typeorm/typeorm-session.adapters.js';
export type { TypeOrmSessionAdapterOptions, TypeOrmSessionAdapters } from './adapters/typeorm/typeorm-session.adapters.js';
export { TypeOrmSessionStore } from './adapters/typeorm/typeorm-session.store.js';
export { TypeOrmAuditLog } from './adapters/typeorm/typeorm-audit.log.js';
export { TypeOrmHousekeepingLock } from './adapters/typeorm/typeorm-housekeeping.lock.js';
export { isDatabaseUnavailable } from './adapters/typeorm/run-statement.js';
export { SESSION_MIGRATIONS } from './adapters/typeorm/migrations/index.js';
export { redisSessionAdapters } from './adapters/redis/redis-session.adapters.js';
export type { RedisSessionAdapters, RedisSessionAdaptersOptions } from './adapters/redis/redis-session.adapters.js';
export type { RedisConnectionConfig } from './adapters/redis/redis-connection.js';
export { REQUEST_PATH_REDIS_OPTIONS } from './adapters/redis/redis-connection.js';
export type { RedisSentinelConfig } from './adapters/redis/redis-sentinel.js';

// Moving from another session system without logging anyone out
export { LegacySessionSource } from './ports/legacy-session-source.js';
export type { LegacyCredential, LegacyRequest } from './ports/legacy-session-source.js';
export { ExpressSessionLegacySource } from './legacy/express-session.legacy-source.js';
export type { ExpressSessionLegacyOptions } from './legacy/express-session.legacy-source.js';
export { SqlTableLegacySource } from './legacy/sql-table.legacy-source.js';
export type { SqlTableLegacyOptions } from './legacy/sql-table.legacy-source.js';
export { LegacySessionUpgrader, UPGRADE_HEADERS } from './legacy/legacy-session.upgrader.js';

// Errors
export * from './errors/session.errors.js';
export { SessionConfigurationError } from './errors/session-configuration.error.js';
