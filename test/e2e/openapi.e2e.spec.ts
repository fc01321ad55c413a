import type { OpenAPIObject, OperationObject, ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { RunningApp, startApp } from '../support/app-harness';
import { exposedRoutes, RouteKey } from '../support/exposed-routes';

type Method = 'GET' | 'POST' | 'DELETE';
/** Who may call a route: anyone, any session, a session of an admin, or a web page for people. */
type Access = 'public' | 'session' | 'admin' | 'page';

interface ContractRoute {
  method: Method;
  /** As OpenAPI writes it: `{id}` for a path parameter. */
  path: string;
  access: Access;
  success: number;
  failures: number[];
  /** The contract's Operations table: checked once the app has the route. */
  operations?: true;
  /** Media type of the success answer, when not JSON. */
  produces?: string;
  /** Fields of the failure bodies, when not Nest's `{statusCode, message, error}`. */
  failureFields?: string[];
}

const ERROR_FIELDS = ['statusCode', 'message', 'error'];

/**
 * The HTTP API and Operations tables of CONTRACT.md: route, guard, success and failure codes.
 * Failures the contract lists for a route; the document may add more (403 for CSRF, 429...).
 */
const CONTRACT: ContractRoute[] = [
  { method: 'POST', path: '/auth/register', access: 'public', success: 201, failures: [400, 409] },
  { method: 'POST', path: '/auth/login', access: 'public', success: 200, failures: [400, 401, 429] },
  { method: 'POST', path: '/auth/refresh', access: 'public', success: 200, failures: [400, 401] },
  { method: 'POST', path: '/auth/logout', access: 'session', success: 204, failures: [401] },
  { method: 'POST', path: '/auth/password', access: 'session', success: 204, failures: [400, 401] },
  { method: 'GET', path: '/auth/me', access: 'session', success: 200, failures: [401] },
  { method: 'GET', path: '/auth/sessions', access: 'session', success: 200, failures: [401] },
  { method: 'DELETE', path: '/auth/sessions/{id}', access: 'session', success: 204, failures: [400, 404] },
  { method: 'DELETE', path: '/auth/sessions', access: 'session', success: 200, failures: [401] },
  { method: 'GET', path: '/admin/sessions', access: 'admin', success: 200, failures: [400, 401, 403] },
  { method: 'DELETE', path: '/admin/sessions/{id}', access: 'admin', success: 204, failures: [404] },
  { method: 'DELETE', path: '/admin/users/{userId}/sessions', access: 'admin', success: 200, failures: [401, 403] },
  { method: 'GET', path: '/ping', access: 'public', success: 200, failures: [] },
  { method: 'GET', path: '/ping/secure', access: 'session', success: 200, failures: [401] },
  // Its 503 is the health report itself (`@nestjs/terminus`), with the failing backend under `error`.
  { method: 'GET', path: '/health', access: 'public', success: 200, failures: [503], operations: true, failureFields: ['status', 'error', 'details'] },
  { method: 'GET', path: '/metrics', access: 'public', success: 200, failures: [], operations: true, produces: 'text/plain' },
  { method: 'GET', path: '/admin/sessions/stats', access: 'admin', success: 200, failures: [401, 403], operations: true },
  { method: 'GET', path: '/admin/audit', access: 'admin', success: 200, failures: [400, 401, 403], operations: true },
  { method: 'GET', path: '/admin', access: 'page', success: 200, failures: [], operations: true, produces: 'text/html' },
];

/** Routes the app serves that are not API operations: the docs themselves and the admin page's files. */
const NOT_IN_DOCUMENT: RegExp[] = [/^GET \/docs(\/|-json$|$)/, /^GET \/admin(\/assets\/[^/]+)?$/];

/** Request bodies and the fields each must require. */
const REQUIRED_FIELDS: Array<[route: RouteKey, required: string[], optional: string[]]> = [
  ['POST /auth/register', ['email', 'password'], ['name']],
  ['POST /auth/login', ['email', 'password'], ['deviceName']],
  // The refresh token may come in its cookie instead of the body, so the body requires nothing.
  ['POST /auth/refresh', [], ['refreshToken']],
  ['POST /auth/password', ['currentPassword', 'newPassword'], []],
  ['POST /admin/sessions/end-issued-before', ['before'], []],
];

const UNSAFE_METHODS = new Set<Method>(['POST', 'DELETE']);
const keyOf = (route: ContractRoute): RouteKey => `${route.method} ${route.path}`;

describe('OpenAPI document and Swagger UI', () => {
  let running: RunningApp;
  let doc: OpenAPIObject;
  let exposed: Set<RouteKey>;
  /** The contract's routes that the app serves. */
  let served: ContractRoute[];

  const operation = (route: ContractRoute): OperationObject | undefined =>
    doc.paths[route.path]?.[route.method.toLowerCase() as 'get' | 'post' | 'delete'];
  const resolve = (schema: SchemaObject | ReferenceObject | undefined): SchemaObject | undefined => {
    if (schema && '$ref' in schema) return doc.components!.schemas![schema.$ref.split('/').pop()!] as SchemaObject;
    return schema;
  };
  /** The name of the security scheme with these fields. */
  const schemeNamed = (fields: Record<string, string>) =>
    Object.entries(doc.components!.securitySchemes! as unknown as Record<string, Record<string, unknown>>).find(([, scheme]) =>
      Object.entries(fields).every(([k, v]) => scheme[k] === v),
    )?.[0];

  beforeAll(async () => {
    running = await startApp();
    const res = await running.http.get('/docs-json').expect(200);
    doc = res.body;
    exposed = exposedRoutes(running.app);
    served = CONTRACT.filter((route) => exposed.has(keyOf(route)));
  });
  afterAll(() => running.close());

  describe('GET /docs', () => {
    it('answers the Swagger UI page without a session, and every file it loads answers 200', async () => {
      const page = await running.http.get('/docs').set('Authorization', 'Bearer not-a-token');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      const assets = [...page.text.matchAll(/(?:src|href)=["']([^"']+)["']/g)].map((m) => new URL(m[1], 'http://app/docs').pathname);
      expect(assets).toEqual(expect.arrayContaining(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/swagger-ui-standalone-preset.js', '/docs/swagger-ui-init.js']));
      for (const asset of assets) {
        const res = await running.http.get(asset);
        expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      }
      const init = await running.http.get('/docs/swagger-ui-init.js');
      expect(init.headers['content-type']).toMatch(/javascript/);
      expect(init.text).toContain('"openapi"');
    });

    it("has a CSP that lets the page run (no inline script; inline styles allowed) and keeps the app's policy elsewhere", async () => {
      const page = await running.http.get('/docs');
      const csp = String(page.headers['content-security-policy']);
      // Every script of the page is a file of its own: nothing needs 'unsafe-inline' for scripts.
      expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toMatch(/style-src [^;]*'unsafe-inline'/);
      expect(csp).toMatch(/img-src [^;]*data:/);
      // So the page also works on a plain-HTTP origin other than localhost.
      expect(csp).not.toContain('upgrade-insecure-requests');
      const api = String((await running.http.get('/ping')).headers['content-security-policy']);
      expect(api).toContain('upgrade-insecure-requests');
    });
  });

  describe('rate limit', () => {
    it('the UI, its files and the document share the default per-address limit: 429 with the error shape and Retry-After past it', async () => {
      const limited = await startApp({ THROTTLE_LIMIT: '3', THROTTLE_TTL: '60' });
      try {
        await limited.http.get('/docs').expect(200);
        await limited.http.get('/docs/swagger-ui-init.js').expect(200);
        await limited.http.get('/docs-json').expect(200);
        // Spellings a router may also take for the document count as well.
        for (const path of ['/docs-json', '/Docs-JSON/', '/docs']) {
          const res = await limited.http.get(path);
          expect({ path, status: res.status }).toEqual({ path, status: 429 });
          expect(res.body).toEqual({ statusCode: 429, message: 'Too many requests, try again later', error: 'Too Many Requests' });
          expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        }
        // The docs have a count of their own: the API routes are not charged for them.
        await limited.http.get('/ping').expect(200);
      } finally {
        await limited.close();
      }
    });
  });

  describe('GET /docs-json', () => {
    it('is an OpenAPI 3 document, public', async () => {
      const res = await running.http.get('/docs-json').set('Authorization', 'Bearer not-a-token').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(doc.info.title).toEqual(expect.any(String));
      expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
    });
  });

  describe('routes', () => {
    it('every route of the HTTP API table exists in the app', () => {
      const missing = CONTRACT.filter((r) => !r.operations && !exposed.has(keyOf(r))).map(keyOf);
      expect(missing).toEqual([]);
    });

    it('every contract route the app serves is documented with its success and failure codes', () => {
      for (const route of served.filter((r) => r.access !== 'page')) {
        const op = operation(route);
        expect(op, `${keyOf(route)} is not in the document`).toBeDefined();
        const statuses = Object.keys(op!.responses).map(Number);
        expect({ route: keyOf(route), statuses }).toEqual({
          route: keyOf(route),
          statuses: expect.arrayContaining([route.success, ...route.failures]),
        });
      }
    });

    it('success answers have a body schema of the right media type; 204 has none', () => {
      for (const route of served.filter((r) => r.access !== 'page')) {
        const answer = operation(route)!.responses[route.success] as { content?: Record<string, { schema?: unknown }> };
        if (route.success === 204) {
          expect(answer.content, keyOf(route)).toBeUndefined();
          continue;
        }
        const type = route.produces ?? 'application/json';
        expect(Object.keys(answer.content ?? {}), keyOf(route)).toContain(type);
        expect(answer.content![type].schema, keyOf(route)).toBeDefined();
      }
    });

    it('login and the password change document their 429s alike: the per-address limit and the per-account backoff, with Retry-After', () => {
      const tooMany = (path: string) => {
        const response = doc.paths[path].post!.responses['429'] as {
          headers?: Record<string, unknown>;
          content: Record<string, { examples: Record<string, { value: unknown }> }>;
        };
        return { headers: Object.keys(response.headers ?? {}), examples: Object.values(response.content['application/json'].examples).map((e) => e.value) };
      };
      const login = tooMany('/auth/login');
      expect(login.headers).toEqual(['Retry-After']);
      expect(login.examples).toEqual([
        { statusCode: 429, message: 'Too many requests, try again later', error: 'Too Many Requests' },
        { statusCode: 429, message: 'Too many failed login attempts, try again later', error: 'Too Many Requests' },
      ]);
      expect(tooMany('/auth/password')).toEqual(login);
    });

    it('every documented error has the {statusCode, message, error} body (or the contract\'s own)', () => {
      for (const route of served.filter((r) => r.access !== 'page')) {
        for (const [status, response] of Object.entries(operation(route)!.responses)) {
          if (Number(status) < 400) continue;
          const content = (response as { content?: Record<string, { schema: SchemaObject | ReferenceObject }> }).content;
          const schema = resolve(content?.['application/json']?.schema);
          const at = `${keyOf(route)} ${status}`;
          expect({ at, fields: Object.keys(schema?.properties ?? {}) }).toEqual({
            at,
            fields: expect.arrayContaining(route.failureFields ?? ERROR_FIELDS),
          });
          if (!route.failureFields) expect({ at, required: schema!.required }).toEqual({ at, required: expect.arrayContaining(ERROR_FIELDS) });
        }
      }
    });

    it('the admin page, when the app has it, is left out of the document or documented as HTML', () => {
      const page = CONTRACT.find((r) => r.access === 'page')!;
      const op = operation(page);
      if (op) expect(Object.keys((op.responses[200] as { content?: object }).content ?? {})).toEqual(['text/html']);
    });

    it('the app exposes no route that the document leaves out', () => {
      const documented = new Set<RouteKey>();
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
          if (item[method]) documented.add(`${method.toUpperCase()} ${path}`);
        }
      }
      const undocumented = [...exposed].filter((r) => !documented.has(r) && !NOT_IN_DOCUMENT.some((p) => p.test(r)));
      expect(undocumented).toEqual([]);
      // And nothing is documented that the app does not serve.
      expect([...documented].filter((r) => !exposed.has(r))).toEqual([]);
    });
  });

  describe('security', () => {
    it('declares the bearer scheme, the access cookie and the CSRF header', () => {
      expect(schemeNamed({ type: 'http', scheme: 'bearer' })).toBeDefined();
      expect(schemeNamed({ type: 'apiKey', in: 'cookie', name: '__Host-access' })).toBeDefined();
      expect(schemeNamed({ type: 'apiKey', in: 'header', name: 'X-CSRF-Token' })).toBeDefined();
    });

    it('applies them to the session routes (CSRF with the cookie on unsafe methods) and not to public ones', () => {
      const bearer = schemeNamed({ type: 'http', scheme: 'bearer' })!;
      const cookie = schemeNamed({ type: 'apiKey', in: 'cookie', name: '__Host-access' })!;
      const csrf = schemeNamed({ type: 'apiKey', in: 'header', name: 'X-CSRF-Token' })!;
      for (const route of served.filter((r) => r.access !== 'page')) {
        const security = operation(route)!.security ?? [];
        if (route.access === 'public') {
          expect({ route: keyOf(route), security }).toEqual({ route: keyOf(route), security: [] });
          continue;
        }
        const withCookie = UNSAFE_METHODS.has(route.method) ? { [cookie]: [], [csrf]: [] } : { [cookie]: [] };
        expect({ route: keyOf(route), security }).toEqual({
          route: keyOf(route),
          security: expect.arrayContaining([{ [bearer]: [] }, withCookie]),
        });
        if (route.access === 'admin') expect(Object.keys(operation(route)!.responses), keyOf(route)).toContain('403');
      }
    });
  });

  describe('request bodies', () => {
    it.each(REQUIRED_FIELDS)('%s requires %j', (route, required, optional) => {
      const [method, path] = route.split(' ');
      const op = doc.paths[path][method.toLowerCase() as 'post'] as OperationObject;
      const body = op.requestBody as { content: Record<string, { schema: SchemaObject | ReferenceObject }> };
      const schema = resolve(body.content['application/json'].schema)!;
      expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining([...required, ...optional]));
      expect([...(schema.required ?? [])].sort()).toEqual([...required].sort());
    });

    it('the admin sessions query documents limit 1 to 100, default 20', () => {
      const params = operation(CONTRACT.find((r) => r.path === '/admin/sessions')!)!.parameters as Array<{ name: string; in: string; schema: SchemaObject }>;
      const limit = params.find((p) => p.name === 'limit' && p.in === 'query');
      expect(limit?.schema).toMatchObject({ minimum: 1, maximum: 100, default: 20 });
    });
  });
});
