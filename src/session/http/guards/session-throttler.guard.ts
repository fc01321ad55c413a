import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';

/**
 * `@nestjs/throttler`'s guard with the contract's `Retry-After` header on every 429 (the stock
 * guard suffixes it with the throttler's name for named throttlers such as `login`).
 * The tracker is the client IP, which honours `X-Forwarded-For` only when the app trusts a proxy.
 */
@Injectable()
export class SessionThrottlerGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const { res } = this.getRequestResponse(context);
    this.setResponseHeader(res, 'Retry-After', Math.max(1, detail.timeToBlockExpire));
    return super.throwThrottlingException(context, detail);
  }
}
