import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { InvalidTokenError } from '../../errors/session.errors.js';
import { requestSession } from '../request-session.js';
import type { AuthenticatedSession } from '../../session.types.js';
import { ROLES_KEY } from '../decorators/roles.decorator.js';
import { asHttpException } from '../session-exception.filter.js';
import { MemoizingReflector } from './memoizing-reflector.js';

/** Enforces `@Roles()`: 403 when the session's user has none of them. Runs after `SessionAuthGuard`. */
@Injectable()
export class RolesGuard implements CanActivate {
  /** Read on every request: remembered per route. */
  private readonly reflector = new MemoizingReflector();

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
    if (!roles || roles.length === 0) return true;
    const http = context.switchToHttp();
    // In a gateway handler the session is the socket's; a refusal there is Nest's WsException('Forbidden').
    const ws = context.getType() === 'ws';
    const session: AuthenticatedSession | undefined = requestSession(ws ? context.switchToWs().getClient<object>() : http.getRequest());
    if (!session && ws) return false;
    if (!session) throw asHttpException(new InvalidTokenError('missing'), http.getResponse());
    if (!roles.some((role) => session!.roles.includes(role))) {
      if (ws) return false;
      throw new ForbiddenException('Insufficient role');
    }
    return true;
  }
}
