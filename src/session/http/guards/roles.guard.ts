import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { InvalidTokenError } from '../../errors/session.errors.js';
import { REQUEST_SESSION_KEY } from '../../session.constants.js';
import type { AuthenticatedSession } from '../../session.types.js';
import { ROLES_KEY } from '../decorators/roles.decorator.js';
import { MemoizingReflector } from './memoizing-reflector.js';

/** Enforces `@Roles()`: 403 when the session's user has none of them. Runs after `SessionAuthGuard`. */
@Injectable()
export class RolesGuard implements CanActivate {
  /** Read on every request: remembered per route. */
  private readonly reflector = new MemoizingReflector();

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
    if (!roles || roles.length === 0) return true;
    const session: AuthenticatedSession | undefined =
      context.switchToHttp().getRequest()[REQUEST_SESSION_KEY];
    if (!session) throw new InvalidTokenError('missing');
    if (!roles.some((role) => session.roles.includes(role))) {
      throw new ForbiddenException('Insufficient role');
    }
    return true;
  }
}
