import { applyDecorators } from '@nestjs/common';
import type { DocumentBuilder } from '@nestjs/swagger';
import { ApiSecurity } from './swagger.js';
import { ACCESS_COOKIE, CSRF_COOKIE } from '../session-cookies.js';
import { ApiError } from './api-error.decorator.js';

/** Names of the security schemes the module's routes refer to in an OpenAPI document. */
export const SESSION_SECURITY = {
  /** `Authorization: Bearer <accessToken>` */
  bearer: 'bearer',
  /** The `__Host-access` cookie set by login and refresh */
  cookie: 'sessionCookie',
  /** The `X-CSRF-Token` header a cookie-authenticated unsafe request must carry */
  csrf: 'csrfToken',
} as const;

/** `CSRF_HEADER` as the contract spells it (the code compares Node's lower-cased header names). */
const CSRF_HEADER_NAME = 'X-CSRF-Token';

/**
 * Declares the schemes that `@ApiSessionAuth()` refers to: bearer token, access cookie and CSRF
 * header. Call it on the app's `DocumentBuilder`; the module cannot, since the document is the app's.
 */
export function addSessionSecuritySchemes(builder: DocumentBuilder): DocumentBuilder {
  return builder
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque',
        description: 'The `accessToken` of `POST /auth/login` or `POST /auth/refresh`. Needs no CSRF token.',
      },
      SESSION_SECURITY.bearer,
    )
    .addCookieAuth(
      ACCESS_COOKIE,
      {
        type: 'apiKey',
        in: 'cookie',
        description:
          `With cookies on (the module's \`cookies\` option, on by default), login and refresh set \`${ACCESS_COOKIE}\` ` +
          '(HttpOnly; Secure; SameSite=Lax; Path=/). Used when no `Authorization` header is sent. ' +
          `POST, PUT, PATCH and DELETE requests authenticated by it also need the \`${CSRF_HEADER_NAME}\` header.`,
      },
      SESSION_SECURITY.cookie,
    )
    .addSecurity(SESSION_SECURITY.csrf, {
      type: 'apiKey',
      in: 'header',
      name: CSRF_HEADER_NAME,
      description:
        `Double-submit CSRF token: the value of the \`${CSRF_COOKIE}\` cookie (readable by scripts), ` +
        'required with the access cookie on unsafe methods; 403 when missing or different.',
    });
}

/** What a session-guarded route needs beyond a valid session, for its documentation. */
export interface ApiSessionAuthOptions {
  /**
   * The route changes state (POST, PUT, PATCH, DELETE): with the access cookie it also needs the
   * CSRF header, and answers 403 without it.
   * @default false
   */
  csrf?: boolean;
  /** Roles of which the session's user needs one (`@Roles()`), else 403. */
  roles?: string[];
  /** The route needs a login within this many seconds (`@FreshSession()`), else 401. */
  freshWithin?: number;
}

const WWW_AUTHENTICATE = {
  'WWW-Authenticate': { description: 'Always `Bearer` (with an `error` for a session that is not fresh).', schema: { type: 'string' } },
};

/**
 * Documents a route behind the session guard: the bearer token or the access cookie (with the
 * CSRF header on unsafe methods) and the 401/403 answers they lead to.
 */
export function ApiSessionAuth(options: ApiSessionAuthOptions = {}) {
  const decorators = [
    ApiSecurity(SESSION_SECURITY.bearer),
    // Alternatives of one requirement are ANDed: the cookie alone is not enough on unsafe methods.
    ApiSecurity(
      options.csrf
        ? { [SESSION_SECURITY.cookie]: [], [SESSION_SECURITY.csrf]: [] }
        : { [SESSION_SECURITY.cookie]: [] },
    ),
    ApiError(401, 'Invalid or expired token', {
      description: 'No session, or its access token is expired, revoked or malformed, or the session is over.',
      headers: WWW_AUTHENTICATE,
    }),
  ];
  if (options.freshWithin !== undefined) {
    decorators.push(
      ApiError(401, 'Recent authentication required', {
        description: `The session's user has not logged in within the last ${options.freshWithin} seconds (refreshing does not count).`,
        headers: WWW_AUTHENTICATE,
      }),
    );
  }
  if (options.roles?.length) {
    decorators.push(
      ApiError(403, 'Insufficient role', { description: `The user has none of the roles: ${options.roles.join(', ')}.` }),
    );
  }
  if (options.csrf) {
    decorators.push(
      ApiError(403, 'Missing or invalid CSRF token', {
        description: `Authenticated by the access cookie without a matching \`${CSRF_HEADER_NAME}\` header.`,
      }),
    );
  }
  return applyDecorators(...decorators);
}
