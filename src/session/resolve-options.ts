import type * as PromClient from 'prom-client';
import { SessionConfigurationError } from './errors/session-configuration.error.js';
import { normalize } from './http/session-paths.js';
import { optionalPeer } from './runtime/optional-peer.js';
import type { ResolvedSessionExtras } from './session.module-definition.js';
import {
  ResolvedSessionOptions,
  SESSION_DEFAULTS,
  SessionModuleOptions,
} from './session.options.js';

const MIN_SECRET_LENGTH = 32;

/** A value as a message shows it: a string in quotes, so `"900"` is not mistaken for the number 900. */
const shown = (value: unknown) => (typeof value === 'string' ? `"${value}" (a string)` : String(value));

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new SessionConfigurationError(
      `SessionModule option "${name}" must be a positive whole number of seconds, got ${shown(value)}.`,
    );
  }
  return value;
}

/** Most sessions a login is compared with: the check reads this many rows per login. */
const MAX_LOOKBACK_SESSIONS = 1000;

/** Longest `cleanupInterval` a Node timer can wait (2^31 - 1 ms). */
const MAX_CLEANUP_INTERVAL = 2_147_483;

function nonNegativeInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new SessionConfigurationError(
      `SessionModule option "${name}" must be a whole number of seconds from 0 to ${max}, got ${shown(value)}.`,
    );
  }
  return value;
}

/** Fills in defaults and rejects options that cannot work, naming the fix. */
export function resolveSessionOptions(
  options: SessionModuleOptions,
  extras: Pick<ResolvedSessionExtras, 'routes'> = { routes: 'auth' },
): ResolvedSessionOptions {
  const secrets = (Array.isArray(options.secret) ? options.secret : [options.secret])
    .map((s) => s?.trim())
    .filter((s): s is string => !!s);
  if (secrets.length === 0) {
    throw new SessionConfigurationError(
      'SessionModule needs a "secret" to authenticate tokens: pass at least one key of 32 or more random characters (SESSION_SECRET).',
    );
  }
  const short = secrets.find((s) => s.length < MIN_SECRET_LENGTH);
  if (short !== undefined) {
    throw new SessionConfigurationError(
      `Every SessionModule secret must be at least ${MIN_SECRET_LENGTH} characters; one has ${short.length}. Generate one with: openssl rand -base64 48`,
    );
  }
  if (!options.credentials) {
    throw new SessionConfigurationError(
      'SessionModule needs "credentials": an object implementing CredentialsVerifier that checks an email and password and loads users. Supply it from your users module through forRootAsync({ inject, useFactory }).',
    );
  }
  const idleTtl = positiveInteger('idleTtl', options.idleTtl ?? SESSION_DEFAULTS.idleTtl);
  const resolved: ResolvedSessionOptions = {
    secrets,
    credentials: options.credentials,
    accessTtl: positiveInteger('accessTtl', options.accessTtl ?? SESSION_DEFAULTS.accessTtl),
    refreshTtl: positiveInteger('refreshTtl', options.refreshTtl ?? SESSION_DEFAULTS.refreshTtl),
    idleTtl,
    absoluteTtl: positiveInteger('absoluteTtl', options.absoluteTtl ?? SESSION_DEFAULTS.absoluteTtl),
    maxSessionsPerUser: positiveInteger(
      'maxSessionsPerUser',
      options.maxSessionsPerUser ?? SESSION_DEFAULTS.maxSessionsPerUser,
    ),
    refreshGrace: options.refreshGrace ?? SESSION_DEFAULTS.refreshGrace,
    activityWriteInterval: positiveInteger(
      'activityWriteInterval',
      options.activityWriteInterval ?? Math.max(1, Math.min(60, Math.floor(idleTtl / 20))),
    ),
    binding: options.binding ?? SESSION_DEFAULTS.binding,
    cookies: options.cookies ?? SESSION_DEFAULTS.cookies,
    cacheTtl: positiveInteger('cacheTtl', options.cacheTtl ?? SESSION_DEFAULTS.cacheTtl),
    cleanupInterval: nonNegativeInteger(
      'cleanupInterval',
      options.cleanupInterval ?? SESSION_DEFAULTS.cleanupInterval,
      MAX_CLEANUP_INTERVAL,
    ),
    retention: nonNegativeInteger('retention', options.retention ?? SESSION_DEFAULTS.retention),
    sweepInterval: nonNegativeInteger(
      'sweepInterval',
      options.sweepInterval ?? SESSION_DEFAULTS.sweepInterval,
      MAX_CLEANUP_INTERVAL,
    ),
    metrics: options.metrics === false ? null : (options.metrics ?? optionalPeer<typeof PromClient>('prom-client')?.register ?? null),
    authPath: routesPath(extras.routes),
    legacySessions: options.legacySessions ?? null,
    legacySessionGrace: positiveInteger('legacySessionGrace', options.legacySessionGrace ?? SESSION_DEFAULTS.legacySessionGrace),
    newDeviceLookback: nonNegativeInteger('newDeviceLookback', options.newDeviceLookback ?? SESSION_DEFAULTS.newDeviceLookback),
    newDeviceLookbackSessions: options.newDeviceLookbackSessions ?? SESSION_DEFAULTS.newDeviceLookbackSessions,
    loginRateLimit: options.loginRateLimit ?? { ...SESSION_DEFAULTS.loginRateLimit },
    rateLimit: options.rateLimit ?? { ...SESSION_DEFAULTS.rateLimit },
    userRateLimit: options.userRateLimit ? { ...options.userRateLimit } : SESSION_DEFAULTS.userRateLimit,
    loginFailurePolicy: options.loginFailurePolicy ?? { ...SESSION_DEFAULTS.loginFailurePolicy },
  };
  for (const name of ['freeAttempts', 'windowSeconds', 'maxBlockSeconds'] as const) {
    positiveInteger(`loginFailurePolicy.${name}`, resolved.loginFailurePolicy[name]);
  }
  if (!Number.isInteger(resolved.newDeviceLookbackSessions) || resolved.newDeviceLookbackSessions < 1 || resolved.newDeviceLookbackSessions > MAX_LOOKBACK_SESSIONS) {
    throw new SessionConfigurationError(
      `SessionModule option "newDeviceLookbackSessions" must be a whole number of sessions from 1 to ${MAX_LOOKBACK_SESSIONS}, got ${shown(resolved.newDeviceLookbackSessions)}.`,
    );
  }
  if (resolved.refreshGrace < 0 || !Number.isInteger(resolved.refreshGrace)) {
    throw new SessionConfigurationError(
      'SessionModule option "refreshGrace" must be a whole number of seconds, 0 to turn it off.',
    );
  }
  if (![true, false, 'only'].includes(resolved.cookies)) {
    throw new SessionConfigurationError(
      `SessionModule option "cookies" must be true, false or "only" (cookies without the tokens in the body), got ${shown(resolved.cookies)}.`,
    );
  }
  if (!['off', 'ua', 'ip'].includes(resolved.binding)) {
    throw new SessionConfigurationError('SessionModule option "binding" must be "off", "ua" or "ip".');
  }
  if (resolved.activityWriteInterval >= idleTtl) {
    throw new SessionConfigurationError(
      '"activityWriteInterval" must be well below "idleTtl", or an active session would expire between two writes.',
    );
  }
  for (const [name, limit] of [
    ['loginRateLimit', resolved.loginRateLimit],
    ['rateLimit', resolved.rateLimit],
    ...(resolved.userRateLimit ? [['userRateLimit', resolved.userRateLimit] as const] : []),
  ] as const) {
    positiveInteger(`${name}.limit`, limit.limit);
    positiveInteger(`${name}.ttl`, limit.ttl);
  }
  return resolved;
}

/** The path of the module's routes, `/auth` when they are off (the refresh cookie's default scope). */
function routesPath(routes: string | false): string {
  if (routes === false) return '/auth';
  const path = normalize(routes);
  if (!/^\/[A-Za-z0-9._~\-/]+$/.test(path)) {
    throw new SessionConfigurationError(
      `SessionModule extra "routes" must be a path such as "auth" or "api/auth" (or false for no routes), got "${routes}".`,
    );
  }
  return path;
}
