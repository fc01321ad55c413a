import { SessionEvent } from '../session.events.js';
import { browserOnOs, type ClientDescription, type Novelty } from './client-novelty.js';

/** What a host needs to tell the user about a sign-in from a new device or network. */
export interface NewDeviceLogin extends ClientDescription {
  /** What was not seen in the user's recent sessions: `browser` (browser and OS family), `network`, `device` (device id). */
  novel: Novelty[];
  /** The name the client gave its device (`deviceName`), if any. */
  deviceName: string | null;
  /** One line for the user: `A new sign-in from Firefox on Linux (network 203.0.113.0/24)`. */
  summary: string;
}

/**
 * `session.new_device`: a login from a browser family, network or device id the user's recent
 * sessions do not have (see `newDeviceLookback`). Its `login` says it in words; the audit
 * trail keeps `detail` (e.g. `new browser, new network: Firefox on Linux, 203.0.113.0/24`). Never
 * a token, a hash or a device id.
 */
export class NewDeviceEvent extends SessionEvent {
  constructor(
    at: Date,
    userId: string,
    sessionId: string,
    ipAddress: string | null,
    userAgent: string | null,
    readonly login: NewDeviceLogin,
  ) {
    super('new_device', at, userId, sessionId, ipAddress, userAgent, auditDetail(login));
  }
}

/** The detail of a `new_device` event and audit entry. */
export function newDeviceLogin(client: ClientDescription, novel: Novelty[], deviceName: string | null): NewDeviceLogin {
  const where = client.network ? ` (network ${client.network})` : '';
  return { ...client, novel, deviceName, summary: `A new sign-in from ${browserOnOs(client)}${where}` };
}

function auditDetail(login: NewDeviceLogin): string {
  const what = login.novel.map((n) => `new ${n}`).join(', ');
  return [`${what}: ${browserOnOs(login)}`, login.network].filter(Boolean).join(', ');
}
