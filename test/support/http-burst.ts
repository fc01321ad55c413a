import { spawn } from 'node:child_process';

/**
 * Runs in a process of its own: sends `count` `GET`s at once (each on its own connection,
 * spread over the URLs in turn) and prints the statuses as JSON.
 */
const CLIENT = `
const [count, ...urls] = process.argv.slice(1);
const statuses = await Promise.all(Array.from({ length: Number(count) }, async (_, i) => {
  try {
    const res = await fetch(urls[i % urls.length]);
    await res.arrayBuffer();
    return res.status;
  } catch (error) {
    return String(error.cause?.code ?? error.message);
  }
}));
process.stdout.write(JSON.stringify(statuses));
`;

/**
 * `count` requests at once to `urls` (in turn), from another process, so that they reach the
 * app as fast as a real client's would rather than as fast as the test's own event loop, which
 * the app shares, lets them go.
 * @returns each request's status (or the network error's code), in the order they were sent
 */
export function httpBurst(urls: string[], count: number): Promise<Array<number | string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CLIENT, String(count), ...urls], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`burst client exited with ${code}`));
      resolve(JSON.parse(out) as Array<number | string>);
    });
  });
}
