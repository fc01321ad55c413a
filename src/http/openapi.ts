import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { addSessionSecuritySchemes } from '../session';
import { relaxCspForDocs } from './docs-csp';
import { limitDocsRequests } from './docs-rate-limit';

/** Where the Swagger UI is served; the OpenAPI document is at `${DOCS_PATH}-json`. */
export const DOCS_PATH = 'docs';

const DESCRIPTION = `
Session management: login, token refresh with rotation, logout, a user's own sessions, and admin tools.

**Authentication.** Send the \`accessToken\` of a login or refresh as \`Authorization: Bearer <accessToken>\`.
With cookies on (the default), login and refresh also set the \`__Host-access\`, refresh and \`__Host-csrf\` cookies;
a request authenticated by the access cookie with POST, PUT, PATCH or DELETE must repeat the \`__Host-csrf\`
value in the \`X-CSRF-Token\` header (403 otherwise). A bearer header needs no CSRF token. Tokens in the query
string are ignored.

**Errors** are \`{"statusCode": N, "message": "…", "error": "…"}\`. Every route is rate limited per client IP
(\`THROTTLE_LIMIT\` per \`THROTTLE_TTL\` seconds, these docs included; login, refresh and password checks by \`THROTTLE_LOGIN_*\`) and answers 429 with
\`Retry-After\` beyond it. Bodies are JSON only (415 otherwise) and at most 100 kB (413).
`.trim();

/** Tags in the order the UI lists them. */
const TAGS: Array<[name: string, description: string]> = [
  ['auth', 'Login, refresh, logout, the current session, password change'],
  ['users', 'Registration'],
  ['sessions', "The caller's own sessions"],
  ['admin', 'Every session, statistics and audit: role `admin`'],
  ['operations', 'Health and metrics'],
  ['ping', 'Smoke-test routes'],
];

/** The OpenAPI 3 document of every controller route of the app. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Session service')
    .setDescription(DESCRIPTION)
    .setVersion('1.0');
  for (const [name, description] of TAGS) builder.addTag(name, description);
  // Tags are chosen per route above; untagged controllers are not to be grouped by class name.
  return SwaggerModule.createDocument(app, addSessionSecuritySchemes(builder).build(), { autoTagControllers: false });
}

/**
 * Serves the Swagger UI at `/docs` and the document at `/docs-json`, on Express and Fastify alike.
 * These routes are registered on the HTTP adapter, not as controllers, so the app's global
 * guards (session, roles) never run for them: they are public by construction. The default
 * per-address rate limit is applied to them here, since the global throttler guard does not run either.
 * Call it after the adapter's setup: the docs' CSP override must come after helmet.
 */
export function setupOpenApi(app: INestApplication): void {
  limitDocsRequests(app, DOCS_PATH);
  relaxCspForDocs(app, DOCS_PATH);
  SwaggerModule.setup(DOCS_PATH, app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: `${DOCS_PATH}-json`,
    raw: ['json'],
    customSiteTitle: 'Session service API',
    swaggerOptions: {
      // The UI would otherwise load a badge from validator.swagger.io, sending it the document's
      // URL; the CSP blocks that image anyway.
      validatorUrl: null,
    },
  });
}
