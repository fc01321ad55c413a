import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator.js';
import { requestSession } from '../request-session.js';
import { asHttpException } from '../session-exception.filter.js';
import { MemoizingReflector } from './memoizing-reflector.js';
import { LegacySessionUpgrader } from '../../legacy/legacy-session.upgrader.js';
import { attachSessionUser, SESSION_STRATEGY, SessionStrategy } from './session.strategy.js';

/**
 * Requires a valid session (401 with `WWW-Authenticate: Bearer` otherwise) unless the route is
 * `@Public()`, where a valid session is attached when one is presented and nothing is refused. Safe to apply both globally and on a controller: a request already
 * authenticated passes at once. Its refusals are HTTP exceptions with their headers set, so any
 * route of the app answers them right, with or without the module's exception filter.
 *
 * It is `@nestjs/passport`'s `AuthGuard(SESSION_STRATEGY)` (`'session-token'`), but it calls this module's
 * `SessionStrategy` directly instead of going through `passport.authenticate`: that skips
 * passport's per-request plumbing on the hot path, and it uses this app's own strategy even
 * when several apps (or test instances) share one process, where passport's strategy registry
 * is global and the last one registered would win. Apps may still use `AuthGuard(SESSION_STRATEGY)`.
 */
@Injectable()
export class SessionAuthGuard extends AuthGuard(SESSION_STRATEGY) {
  /** Read on every request: remembered per route. */
  private readonly reflector = new MemoizingReflector();

  constructor(
    private readonly strategy: SessionStrategy,
    private readonly legacy: LegacySessionUpgrader,
  ) {
    super();
  }

  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // Global guards run for gateway messages too: a socket was authenticated at its handshake
    // (`authenticateSockets`), and `SessionSocketGuard` re-checks its session per message.
    if (context.getType() === 'ws') return requestSession(context.switchToWs().getClient<object>()) !== undefined;
    const http = context.switchToHttp();
    const req = http.getRequest();
    if (requestSession(req)) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]) === true;
    // Only a request without a token of this module may carry a legacy session to upgrade. A
    // bearer source's credential is an Authorization header itself: `applies` has already told
    // it from this module's tokens (`sa_…` is never looked up).
    if (this.legacy.applies(req) && (this.legacy.readsAuthorization || !this.strategy.presentsToken(req))) {
      return this.upgrade(req, http.getResponse(), isPublic);
    }
    if (isPublic) {
      // A public route is never refused, but a valid session presented there is the request's
      // (`@CurrentUser()`, `requestSession`): public pages that know who is looking.
      return this.strategy.presentsToken(req) ? this.authenticate(req, null) : true;
    }
    return this.authenticate(req, http.getResponse());
  }

  /** The request's legacy session, upgraded to one of this module; without one, as a request without a token. */
  private async upgrade(req: Record<string, unknown>, res: Parameters<typeof asHttpException>[1], isPublic: boolean): Promise<boolean> {
    let session;
    try {
      session = await this.legacy.upgrade(req as never, res as never);
    } catch (error) {
      return this.refuse(error, isPublic ? null : res);
    }
    if (session) {
      req.user = attachSessionUser(req, session);
      return true;
    }
    return isPublic ? true : this.authenticate(req, res);
  }

  /**
   * Validates the request's token and attaches its session: at once when this process holds it,
   * else by a promise.
   * @param res where a refusal's headers go; null on a public route, which lets the request through instead
   */
  private authenticate(req: Record<string, unknown>, res: Parameters<typeof asHttpException>[1] | null): boolean | Promise<boolean> {
    try {
      const user = this.strategy.authenticateRequest(req as never);
      if (!(user instanceof Promise)) {
        req.user = user;
        return true;
      }
      return user.then(
        (validated) => {
          req.user = validated;
          return true;
        },
        (error: unknown) => this.refuse(error, res),
      );
    } catch (error) {
      return this.refuse(error, res);
    }
  }

  /** The refusal as an HTTP exception, its headers set (`WWW-Authenticate`); on a public route, no refusal. */
  private refuse(error: unknown, res: Parameters<typeof asHttpException>[1] | null): true {
    if (res === null) return true;
    throw asHttpException(error, res);
  }
}
