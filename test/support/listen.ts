import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';

/**
 * Makes an initialized app (see `startApp`) listen on a free port, for clients that need a real
 * socket such as a browser. The URL names `localhost`, the one http origin where Chromium keeps
 * `Secure` and `__Host-` cookies.
 * @returns the app's base URL, e.g. `http://localhost:41234`
 */
export async function listenOnFreePort(app: INestApplication): Promise<string> {
  await app.listen(0);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return `http://localhost:${port}`;
}
