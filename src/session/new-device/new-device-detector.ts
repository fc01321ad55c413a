import { Inject, Injectable, Logger } from '@nestjs/common';
import type { SessionInfo } from '../ports/session-record.js';
import { SessionStore } from '../ports/session-store.js';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants.js';
import { SessionEventPublisher } from '../session-event.publisher.js';
import type { ResolvedSessionOptions } from '../session.options.js';
import { describeClient, noveltyOf } from './client-novelty.js';
import { NewDeviceEvent, newDeviceLogin } from './new-device.event.js';

/**
 * Tells a login from a new device or network: compares the session just opened with the user's
 * sessions created in the last `newDeviceLookback` seconds (at most `newDeviceLookbackSessions`,
 * one index range) and publishes a `new_device` event (audit entry, `@OnEvent('session.new_device')`)
 * when its browser family, network or device id is not among them. A user with no session in
 * the lookback (a first login) gets none. It never fails a login: an error is logged and the
 * login goes on.
 */
@Injectable()
export class NewDeviceDetector {
  private readonly logger = new Logger('NewDeviceDetector');

  constructor(
    private readonly store: SessionStore,
    private readonly events: SessionEventPublisher,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  /** Checks the session a login just opened; publishes `new_device` when its client is new. */
  async check(session: SessionInfo): Promise<void> {
    if (this.options.newDeviceLookback === 0) return;
    try {
      const history = await this.store.recentClients({
        userId: session.userId,
        since: new Date(session.createdAt.getTime() - this.options.newDeviceLookback * 1000),
        limit: this.options.newDeviceLookbackSessions,
        exceptId: session.id,
      });
      const novel = noveltyOf(session, history);
      if (novel.length === 0) return;
      const login = newDeviceLogin(describeClient(session), novel, session.deviceName);
      this.events.publish(new NewDeviceEvent(session.createdAt, session.userId, session.id, session.ipAddress, session.userAgent, login));
    } catch (error) {
      this.logger.warn(`New-device check of session ${session.id} failed, login goes on: ${(error as Error).message}`);
    }
  }
}
