import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import helmet from 'helmet';
import { helmetDefaultHeaders, writeSecurityHeaders } from './security-headers';

/** The headers a real response carries when `handle` answers it. */
async function headersOf(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Record<string, string>> {
  const server = createServer(handle);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`);
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name)) headers[name] = value;
    });
    return headers;
  } finally {
    await new Promise((done) => server.close(done));
  }
}

describe('helmetDefaultHeaders', () => {
  it("are exactly the headers helmet's middleware writes on a response", async () => {
    const byHelmet = await headersOf((req, res) => helmet()(req, res, () => res.end()));
    const computed = helmetDefaultHeaders();
    const byUs = await headersOf((req, res) => {
      writeSecurityHeaders(res, computed);
      res.end();
    });
    expect(byUs).toEqual(byHelmet);
    expect(byUs['content-security-policy']).toContain("default-src 'self'");
    expect(byUs['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(byUs['x-frame-options']).toBe('SAMEORIGIN');
    expect(Object.keys(byUs).length).toBeGreaterThanOrEqual(10);
  });
});
