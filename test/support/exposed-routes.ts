import type { INestApplication } from '@nestjs/common';

/** A route as OpenAPI writes it: `GET /auth/sessions/{id}`. */
export type RouteKey = `${string} ${string}`;

interface ExpressLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}

interface FastifyLike {
  printRoutes(options: { commonPrefix: boolean }): string;
}

const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Every method and path the app's HTTP server answers, read from the adapter's router, so it
 * includes routes registered outside Nest's controllers. HEAD (which Fastify adds to every GET)
 * and catch-all middleware mounts are left out.
 */
export function exposedRoutes(app: INestApplication): Set<RouteKey> {
  const instance = app.getHttpAdapter().getInstance() as Partial<FastifyLike> & { router?: { stack: ExpressLayer[] } };
  const routes = new Set<RouteKey>();
  const add = (method: string, path: string) => {
    const verb = method.toUpperCase();
    if (verb !== 'HEAD' && !path.includes('*')) routes.add(`${verb} ${toOpenApiPath(path)}`);
  };
  if (typeof instance.printRoutes === 'function') {
    for (const [method, path] of parseFastifyRouteTree(instance.printRoutes({ commonPrefix: false }))) add(method, path);
  } else if (instance.router) {
    // Nest also mounts route-scoped middleware as routes: the Set drops those duplicates.
    for (const layer of instance.router.stack) {
      if (layer.route && typeof layer.route.path === 'string') {
        for (const method of Object.keys(layer.route.methods)) add(method, layer.route.path);
      }
    }
  } else {
    throw new Error('exposedRoutes: neither an Express nor a Fastify instance');
  }
  return routes;
}

/**
 * Reads find-my-way's tree (`printRoutes({ commonPrefix: false })`): each line is a path segment
 * indented four characters per level under its parent, followed by its methods, e.g.
 * `│   └── /:id (DELETE)`.
 */
export function parseFastifyRouteTree(tree: string): Array<[method: string, path: string]> {
  const routes: Array<[string, string]> = [];
  const parents: string[] = [];
  for (const line of tree.split('\n')) {
    const branch = line.search(/[├└]── /);
    if (branch < 0) continue;
    const depth = branch / 4;
    const match = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(branch + 4))!;
    parents.length = depth;
    const path = parents.join('') + match[1];
    parents.push(match[1]);
    for (const method of match[2]?.split(', ') ?? []) routes.push([method, path]);
  }
  return routes;
}
