import { createServer, type Server, Socket } from 'node:net';
import { TcpProxy } from '../support/tcp-proxy';
import { sleep } from '../support/timing';

/** A client of the proxy that records what it reads and how its connection ended. */
class Client {
  readonly socket = new Socket();
  received = '';
  ended?: string;

  static async connect(port: number): Promise<Client> {
    const client = new Client();
    client.socket.on('data', (chunk) => (client.received += chunk.toString()));
    client.socket.on('error', (error: NodeJS.ErrnoException) => (client.ended ??= error.code ?? error.message));
    client.socket.on('close', () => (client.ended ??= 'closed'));
    await new Promise<void>((resolve, reject) => client.socket.once('error', reject).connect(port, '127.0.0.1', resolve));
    return client;
  }
}

/** Waits up to `ms` for `check`; true if it came to hold. */
async function eventually(check: () => boolean, ms = 1000): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(5)) if (check()) return true;
  return check();
}

describe('TcpProxy (test support)', () => {
  let echo: Server;
  let proxy: TcpProxy;
  /** Server-side sockets, what each read, and what ended it. */
  const serverSide: Array<{ socket: Socket; received: string; ended?: string }> = [];

  beforeEach(async () => {
    echo = createServer((socket) => {
      const entry: (typeof serverSide)[number] = { socket, received: '' };
      serverSide.push(entry);
      socket.on('data', (chunk) => {
        entry.received += chunk.toString();
        socket.write(chunk);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => (entry.ended ??= error.code ?? error.message));
      socket.on('close', () => (entry.ended ??= 'closed'));
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await TcpProxy.start((echo.address() as { port: number }).port);
  });

  afterEach(async () => {
    await proxy.close();
    for (const { socket } of serverSide.splice(0)) socket.destroy();
    await new Promise((resolve) => echo.close(resolve));
  });

  it('forwards both ways', async () => {
    const client = await Client.connect(proxy.port);
    client.socket.write('ping');
    expect(await eventually(() => client.received === 'ping')).toBe(true);
    client.socket.destroy();
  });

  it('with a latency, forwards each chunk that much later each way, in order', async () => {
    proxy.latency(100);
    const client = await Client.connect(proxy.port);
    const sent = Date.now();
    client.socket.write('a');
    await sleep(10);
    client.socket.write('b');
    await sleep(120);
    expect(client.received).toBe('');
    expect(await eventually(() => client.received === 'ab')).toBe(true);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(200);
    client.socket.destroy();
  });

  it('hold: nothing goes through either way, sockets stay open; release delivers what was sent meanwhile', async () => {
    const client = await Client.connect(proxy.port);
    client.socket.write('a');
    expect(await eventually(() => client.received === 'a')).toBe(true);

    proxy.hold();
    client.socket.write('b');
    serverSide[0].socket.write('from-server');
    await sleep(200);
    expect(client.received).toBe('a');
    expect(client.ended).toBeUndefined();
    // A connection opened during the split is accepted but does not reach the target.
    const late = await Client.connect(proxy.port);
    late.socket.write('late');
    await sleep(100);
    expect(serverSide).toHaveLength(1);

    proxy.release();
    expect(await eventually(() => client.received === 'afrom-serverb' || client.received === 'abfrom-server')).toBe(true);
    expect(await eventually(() => late.received === 'late')).toBe(true);
    expect(client.ended).toBeUndefined();
    client.socket.destroy();
    late.socket.destroy();
  });

  it('hold: what a side that closed meanwhile sent never arrives; its link is reset on release', async () => {
    const client = await Client.connect(proxy.port);
    expect(await eventually(() => serverSide.length === 1)).toBe(true);
    proxy.hold();
    client.socket.end('last words');
    await sleep(100);
    proxy.release();
    expect(await eventually(() => serverSide[0].ended !== undefined)).toBe(true);
    expect(serverSide[0].ended).toBe('ECONNRESET');
    expect(serverSide[0].received).toBe('');
  });

  it('reset: every connection is destroyed with a RST', async () => {
    const client = await Client.connect(proxy.port);
    expect(await eventually(() => serverSide.length === 1)).toBe(true);
    proxy.reset();
    expect(await eventually(() => client.ended !== undefined && serverSide[0].ended !== undefined)).toBe(true);
    expect(client.ended).toBe('ECONNRESET');
    expect(serverSide[0].ended).toBe('ECONNRESET');
    expect(proxy.connections).toBe(0);
  });

  it('close: new connections are refused', async () => {
    await proxy.close();
    await expect(Client.connect(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    proxy = await TcpProxy.start((echo.address() as { port: number }).port);
  });
});
