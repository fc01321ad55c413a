import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session.options.js';

/** The app's global prefix (`app.setGlobalPrefix('api')` → `/api`), or '' without one. */
function globalPrefixOf(moduleRef: ModuleRef): string {
  // Nest keeps it in the container's ApplicationConfig, which it does not offer for injection.
  const container = (moduleRef as unknown as { container?: { applicationConfig?: { getGlobalPrefix(): string } } }).container;
  const prefix = container?.applicationConfig?.getGlobalPrefix() ?? '';
  return normalize(prefix);
}

/** `/a/b` from `a/b/`, `/a/b` or `a//b`; '' from '' or '/'. */
export function normalize(path: string): string {
  const trimmed = path.split('/').filter(Boolean).join('/');
  return trimmed ? `/${trimmed}` : '';
}

/**
 * Where the module's routes answer, the app's global prefix included: the refresh cookie is
 * scoped to the login routes' path, and the admin page calls both. Read once the app is set up
 * (`setGlobalPrefix` comes after the providers exist, before the app starts).
 */
@Injectable()
export class SessionPaths {
  private prefix?: string;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  /** The path of login, refresh, logout, `me` and sessions, e.g. `/auth` or `/api/auth`. */
  get auth(): string {
    return this.under(this.options.authPath);
  }

  /** `path` of the app as clients see it: behind the global prefix. */
  under(path: string): string {
    this.prefix ??= globalPrefixOf(this.moduleRef);
    return `${this.prefix}${normalize(path)}` || '/';
  }
}
