import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ClientSighting, RecentClientsQuery, SessionInfo } from '../ports/session-record.js';
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

  /**
   * The history `check` compares a session with (null when the check is off): a login asks the
   * store for it along with its eviction (`SessionStore.evictBeyondThenRecentClients`).
   */
  historyQuery(session: Pick<SessionInfo, 'id' | 'userId' | 'createdAt'>): RecentClientsQuery | null {
    if (this.options.newDeviceLookback === 0) return null;
    return {
      userId: session.userId,
      since: new Date(session.createdAt.getTime() - this.options.newDeviceLookback * 1000),
      limit: this.options.newDeviceLookbackSessions,
      exceptId: session.id,
    };
  }

  /**
   * Checks the session a login just opened; publishes `new_device` when its client is new.
   * @param history the store's answer to `historyQuery(session)`, when the caller has it (else asked here)
   */
  async check(session: SessionInfo, history: ClientSighting[] | null = null): Promise<void> {
    const query = this.historyQuery(session);
    if (query === null) return;
    try {
      history ??= await this.store.recentClients(query);
      const novel = noveltyOf(session, history);
      if (novel.length === 0) return;
      const login = newDeviceLogin(describeClient(session), novel, session.deviceName);
      this.events.publish(new NewDeviceEvent(session.createdAt, session.userId, session.id, session.ipAddress, session.userAgent, login));
    } catch (error) {
      this.logger.warn(`New-device check of session ${session.id} failed, login goes on: ${(error as Error).message}`);
    }
  }
}
