import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { UpgradeRequest } from '../session';

/**
 * The client address of a socket's handshake under the app's `TRUST_PROXY` rule, the one its HTTP
 * adapter applies to `req.ip` (Express's `trust proxy`, Fastify's `trustProxy`): `true` trusts
 * every hop, a number that many hops, a list of addresses or subnets those. Without it, `ip`
 * binding would judge every socket behind a proxy by the proxy's address.
 */
export function clientAddressRule(trust: boolean | number | string): (request: UpgradeRequest) => string | undefined {
  const trusted: ((address: string, index: number) => boolean) | undefined =
    trust === true
      ? () => true
      : typeof trust === 'number'
        ? (_address, index) => index < trust
        : typeof trust === 'string'
          ? proxyaddr.compile(trust.split(',').map((part) => part.trim()).filter(Boolean))
          : undefined;
  return (request) => {
    if (!trusted || !request.socket?.remoteAddress) return request.socket?.remoteAddress;
    return proxyaddr(request as unknown as IncomingMessage, trusted);
  };
}
