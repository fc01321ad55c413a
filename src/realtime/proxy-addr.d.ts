declare module 'proxy-addr' {
  import type { IncomingMessage } from 'node:http';

  /** Whether the hop at `address`, `index` hops from the server, is a trusted proxy. */
  type Trust = (address: string, index: number) => boolean;

  /** The client's address: the nearest untrusted one along `X-Forwarded-For`. */
  function proxyaddr(req: IncomingMessage, trust: Trust | string | string[]): string;
  namespace proxyaddr {
    function compile(value: string | string[]): Trust;
  }
  export = proxyaddr;
}
