import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { REQUEST_SESSION_KEY } from '../../session.constants';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator';
import { SESSION_STRATEGY, SessionStrategy } from './session.strategy';

/**
 * Requires a valid session (401 with `WWW-Authenticate: Bearer` otherwise) unless the route is
 * `@Public()`. Safe to apply both globally and on a controller: a request already
 * authenticated passes at once.
 *
 * It is `@nestjs/passport`'s `AuthGuard('session')`, but it calls this module's
 * `SessionStrategy` directly instead of going through `passport.authenticate`: that skips
 * passport's per-request plumbing on the hot path, and it uses this app's own strategy even
 * when several apps (or test instances) share one process, where passport's strategy registry
 * is global and the last one registered would win. Apps may still use `AuthGuard('session')`.
 */
@Injectable()
export class SessionAuthGuard extends AuthGuard(SESSION_STRATEGY) {
  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: SessionStrategy,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest();
    if (req[REQUEST_SESSION_KEY]) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    req.user = await this.strategy.validate(req);
    return true;
  }
}
