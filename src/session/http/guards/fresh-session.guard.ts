import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { StaleSessionError } from '../../errors/session.errors.js';
import { REQUEST_SESSION_KEY } from '../../session.constants.js';
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
    const session: AuthenticatedSession | undefined =
      context.switchToHttp().getRequest()[REQUEST_SESSION_KEY];
    if (!session || Date.now() - session.authenticatedAt.getTime() > maxAge * 1000) {
      throw new StaleSessionError();
    }
    return true;
  }
}
