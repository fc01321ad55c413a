import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { SESSION_EVENT, type NewDeviceEvent } from '../session';

/**
 * Where the app would e-mail the user about a sign-in from a new device or network. The app has
 * no mailer, so it writes one structured line with what the message would say (`summary`: "A new
 * sign-in from Firefox on Linux (network 203.0.113.0/24)"); the event carries no token.
 */
@Injectable()
export class NewSignInListener {
  private readonly logger = new Logger('SignInAlerts');

  @OnEvent(SESSION_EVENT.new_device)
  onNewDevice(event: NewDeviceEvent): void {
    const { summary, novel, browser, os, network, deviceName } = event.login;
    this.logger.log({
      msg: 'new sign-in',
      event: event.type,
      userId: event.userId,
      sessionId: event.sessionId,
      at: event.at.toISOString(),
      novel,
      browser,
      os,
      network,
      deviceName,
      summary,
    });
  }
}
