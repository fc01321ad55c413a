import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { InvalidTokenError } from '../../errors/session.errors';
import { REQUEST_SESSION_KEY } from '../../session.constants';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator';
import { SESSION_STRATEGY } from './session.strategy';

/**
 * Requires a valid session (401 with `WWW-Authenticate: Bearer` otherwise) unless the route is
 * `@Public()`. Safe to apply both globally and on a controller: a request already
 * authenticated passes at once.
 */
@Injectable()
export class SessionAuthGuard extends AuthGuard(SESSION_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const req = context.switchToHttp().getRequest();
    if (req[REQUEST_SESSION_KEY]) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    return super.canActivate(context);
  }

  override handleRequest<TUser>(error: unknown, user: TUser | false): TUser {
    if (error) throw error;
    if (!user) throw new InvalidTokenError('missing');
    return user;
  }
}
