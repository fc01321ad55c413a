import { ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { hash } from 'node:crypto';
import { ThrottlerGuard, ThrottlerLimitDetail, type ThrottlerModuleOptions, type ThrottlerStorage } from '@nestjs/throttler';
import { SESSION_THROTTLER_STORAGE, SESSION_USER_THROTTLER_OPTIONS } from '../../session.constants.js';
import { SessionEventPublisher } from '../../session-event.publisher.js';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator.js';
import { requestSession } from '../request-session.js';
import { MemoizingReflector } from './memoizing-reflector.js';
import { throwRateLimited } from './session-throttler.guard.js';

/** Marks a request this guard already counted. */
const COUNTED = Symbol('sessionUserThrottlerCounted');

/**
 * The per-user limit (`userRateLimit`): counts each request that `SessionAuthGuard` authenticated,
 * on a route that needs a session, against its user — one count per user over all such routes,
 * whatever the client address — in the same storage as the per-address limit, so it holds across
 * instances as that one does. It must run after `SessionAuthGuard` (a request without a session
 * passes: there is no user to count); with `userRateLimit` off it lets everything through.
 * A 429 is the contract's, with one `Retry-After`, and a `throttled` event of the user.
 */
@Injectable()
export class SessionUserThrottlerGuard extends ThrottlerGuard {
  private readonly routes = new MemoizingReflector();

  constructor(
    @Inject(SESSION_USER_THROTTLER_OPTIONS) options: ThrottlerModuleOptions,
    @Inject(SESSION_THROTTLER_STORAGE) storage: ThrottlerStorage,
    @Optional() private readonly events?: SessionEventPublisher,
  ) {
    super(options, storage, new MemoizingReflector());
  }

  override async onModuleInit(): Promise<void> {
    // Off means no throttler at all: skip the stock guard's warning about that.
    if (this.isOff) return;
    await super.onModuleInit();
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isOff || context.getType() !== 'http') return Promise.resolve(true);
    const req = context.switchToHttp().getRequest<Record<symbol, unknown>>();
    if (req[COUNTED] || !requestSession(req)) return Promise.resolve(true);
    if (this.routes.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]) === true) return Promise.resolve(true);
    req[COUNTED] = true;
    return super.canActivate(context);
  }

  /** The user, not the address. */
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    return requestSession(req)!.userId;
  }

  /** One count per user over every route (hashed: no user id sits in Redis in clear). */
  protected override generateKey(_context: ExecutionContext, suffix: string, name: string): string {
    return hash('sha256', `user-${name}-${suffix}`, 'base64url');
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const { req, res } = this.getRequestResponse(context);
    throwRateLimited({ req, res }, detail, this.events, requestSession(req)?.userId ?? null);
  }

  private get isOff(): boolean {
    return (this.options as ThrottlerModuleOptions & { throttlers: unknown[] }).throttlers.length === 0;
  }
}
