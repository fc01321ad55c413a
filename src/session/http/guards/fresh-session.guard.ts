import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { StaleSessionError } from '../../errors/session.errors.js';
import { requestSession } from '../request-session.js';
import { asHttpException } from '../session-exception.filter.js';
import type { AuthenticatedSession } from '../../session.types.js';

export const FRESH_SESSION_KEY = 'session:freshWithin';

/**
 * Enforces `@FreshSession(seconds)`: the user must have proved who they are (logged in, not
 * merely refreshed) within that many seconds, else 401. Runs after `SessionAuthGuard`.
 */
@Injectable()
export class FreshSessionGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const maxAge = this.reflector.getAllAndOverride<number | undefined>(FRESH_SESSION_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (maxAge === undefined) return true;
    const http = context.switchToHttp();
    const session: AuthenticatedSession | undefined = requestSession(http.getRequest());
    if (!session || Date.now() - session.authenticatedAt.getTime() > maxAge * 1000) {
      throw asHttpException(new StaleSessionError(), http.getResponse());
    }
    return true;
  }
}
