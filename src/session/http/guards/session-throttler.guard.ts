import { ExecutionContext, Injectable, Optional } from '@nestjs/common';
import { hash } from 'node:crypto';
import { MemoizingReflector } from './memoizing-reflector.js';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { SessionEventPublisher } from '../../session-event.publisher.js';
import { SessionEvent } from '../../session.events.js';

/**
 * `@nestjs/throttler`'s guard with the contract's `Retry-After` header on every 429 (the stock
 * guard suffixes it with the throttler's name for named throttlers such as `login`), and a
 * `throttled` event for the audit trail.
 * The tracker is the client IP, which honours `X-Forwarded-For` only when the app trusts a proxy.
 */
@Injectable()
export class SessionThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    @Optional() private readonly events?: SessionEventPublisher,
  ) {
    // The stock guard reads six metadata keys per throttler on every request: remember them.
    super(options, storage, new MemoizingReflector());
  }

  /** The stock key (route, throttler, client, hashed so no IP sits in Redis in clear), with a one-shot hash. */
  protected override generateKey(context: ExecutionContext, suffix: string, name: string): string {
    return hash('sha256', `${context.getClass().name}-${context.getHandler().name}-${name}-${suffix}`, 'base64url');
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const { req, res } = this.getRequestResponse(context);
    this.setResponseHeader(res, 'Retry-After', Math.max(1, detail.timeToBlockExpire));
    const userAgent = (req as { headers?: Record<string, unknown> }).headers?.['user-agent'];
    this.events?.publish(
      new SessionEvent(
        'throttled',
        new Date(),
        null,
        null,
        detail.tracker,
        typeof userAgent === 'string' ? userAgent : null,
        `rate limit: ${detail.limit} per ${Math.round(detail.ttl / 1000)} s`,
      ),
    );
    return super.throwThrottlingException(context, detail);
  }
}
