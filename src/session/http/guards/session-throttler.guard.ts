import { ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { hash } from 'node:crypto';
import { MemoizingReflector } from './memoizing-reflector.js';
import { ThrottlerGuard, ThrottlerLimitDetail, type ThrottlerModuleOptions, type ThrottlerStorage } from '@nestjs/throttler';
import { SESSION_THROTTLER_OPTIONS, SESSION_THROTTLER_STORAGE } from '../../session.constants.js';
import { PASSWORD_CHECK_KEY } from '../decorators/login-throttle.decorator.js';
import { SessionEventPublisher } from '../../session-event.publisher.js';
import { SessionEvent } from '../../session.events.js';
import { RateLimitedError } from '../../errors/session.errors.js';
import { asHttpException } from '../session-exception.filter.js';

/**
 * `@nestjs/throttler`'s guard whose 429 is the contract's: `{statusCode, message, error}` (the
 * stock `ThrottlerException` has no `error`) and one `Retry-After` header (the stock guard names
 * it `Retry-After-<throttler>` for a named throttler such as `login`; that throttler has
 * `setHeaders: false`, see `session.providers.ts`, and the header is set here, through the
 * module's one error mapping), and a `throttled` event for the audit trail.
 * The tracker is the client IP, which honours `X-Forwarded-For` only when the app trusts a proxy.
 *
 * Its options and storage are the module's own (`rateLimit`, `loginRateLimit`,
 * `rateLimitStorage`), under the module's own tokens: an app's `ThrottlerModule` and its
 * `ThrottlerGuard` keep theirs. A request is counted once, even when the guard is both global
 * (the `throttle` extra) and on the module's controllers. Routes that check a password
 * (`@ChecksPassword()`) share one count per client, so spreading guesses over them gains nothing.
 */
/** Marks a request this guard already counted. */
const COUNTED = Symbol('sessionThrottlerCounted');

@Injectable()
export class SessionThrottlerGuard extends ThrottlerGuard {
  constructor(
    @Inject(SESSION_THROTTLER_OPTIONS) options: ThrottlerModuleOptions,
    @Inject(SESSION_THROTTLER_STORAGE) storage: ThrottlerStorage,
    @Optional() private readonly events?: SessionEventPublisher,
  ) {
    // The stock guard reads six metadata keys per throttler on every request: remember them.
    super(options, storage, new MemoizingReflector());
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    // Global guards run for gateway messages too: a socket has no HTTP request to count or answer.
    if (context.getType() !== 'http') return Promise.resolve(true);
    const req = context.switchToHttp().getRequest<Record<symbol, unknown>>();
    if (req[COUNTED]) return Promise.resolve(true);
    req[COUNTED] = true;
    return super.canActivate(context);
  }

  /**
   * The stock key (route, throttler, client, hashed so no IP sits in Redis in clear), with a
   * one-shot hash; every password-checking route is one route here.
   */
  protected override generateKey(context: ExecutionContext, suffix: string, name: string): string {
    const checksPassword = this.reflector.getAllAndOverride<boolean>(PASSWORD_CHECK_KEY, [context.getHandler(), context.getClass()]);
    const route = checksPassword ? 'password-check' : `${context.getClass().name}-${context.getHandler().name}`;
    return hash('sha256', `${route}-${name}-${suffix}`, 'base64url');
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throwRateLimited(this.getRequestResponse(context), detail, this.events);
  }
}

/**
 * The contract's 429 for a throttler's refusal (through the module's one error mapping: one
 * `Retry-After`), after a `throttled` event for the audit trail, of `userId` when the limit was a user's.
 */
export function throwRateLimited(
  { req, res }: { req: Record<string, unknown>; res: Record<string, unknown> },
  detail: ThrottlerLimitDetail,
  events: SessionEventPublisher | undefined,
  userId: string | null = null,
): never {
  const userAgent = (req as { headers?: Record<string, unknown> }).headers?.['user-agent'];
  events?.publish(
    new SessionEvent(
      'throttled',
      new Date(),
      userId,
      null,
      userId === null ? detail.tracker : null,
      typeof userAgent === 'string' ? userAgent : null,
      `${userId === null ? 'rate limit' : 'user rate limit'}: ${detail.limit} per ${Math.round(detail.ttl / 1000)} s`,
    ),
  );
  throw asHttpException(new RateLimitedError(detail.timeToBlockExpire), res as never);
}
