/**
 * The load generator of `npm run bench`, in a process of its own so that it never shares an
 * event loop with a server under test. It runs autocannon programmatically, one job at a time.
 *
 * - Forked with an IPC channel (what `bench/run.ts` does): every message is a `LoadJob`, every
 *   answer a `LoadResult`.
 * - Standalone: `node -r ts-node/register/transpile-only bench/load-driver.ts '<LoadJob JSON>'`
 *   prints one `LoadResult` as JSON.
 *
 * Latencies are taken from autocannon's `response` events (floating-point milliseconds), not from
 * its histogram, which records whole milliseconds; only 2xx answers count towards them.
 *
 * A job with a `refreshPool` drives `POST /auth/refresh` with token rotation: every request takes
 * a `{ sessionId, refreshToken }` from the pool, every 200 puts the pair it answered back in
 * (autocannon answers, then builds that connection's next request at once, so each connection
 * keeps following its own chain). What is left in the pool at the end is returned: those tokens
 * are still valid; the ones in flight when the run stopped are lost (rotated by the server, the
 * answer never read).
 */
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';

export interface PoolEntry {
  sessionId: string;
  refreshToken: string;
}

export interface LoadJob {
  id?: number;
  url: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
  refreshPool?: PoolEntry[];
}

export interface LoadResult {
  id?: number;
  /** Answers received (any status). */
  responses: number;
  /** Wall-clock seconds from start to end of the run. */
  seconds: number;
  /** 2xx answers per second. */
  rps: number;
  /** Of 2xx answers, in milliseconds. */
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** When the pool ran dry: requests that could not be built. */
  poolExhausted: number;
  leftoverPool?: PoolEntry[];
  /** autocannon's own figures, for comparison. */
  autocannon: { requestsAverage: number; p50: number; p99: number };
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export async function runJob(job: LoadJob): Promise<LoadResult> {
  let latencies = new Float64Array(1 << 16);
  let count2xx = 0;
  let responses = 0;
  const statuses: Record<string, number> = {};
  let poolExhausted = 0;

  const pool = job.refreshPool ? [...job.refreshPool] : undefined;
  const request: autocannon.Request = { method: job.method, path: job.path };
  if (pool) {
    request.setupRequest = (req) => {
      const entry = pool.pop();
      if (!entry) {
        poolExhausted++;
        // A forged-looking token: the server answers 401 at once and it shows in the statuses.
        return { ...req, body: JSON.stringify({ refreshToken: 'sr_pool_exhausted' }) };
      }
      return { ...req, body: JSON.stringify({ refreshToken: entry.refreshToken }) };
    };
    request.onResponse = (status, body) => {
      if (status !== 200) return;
      try {
        const answer = JSON.parse(body) as { sessionId?: string; refreshToken?: string };
        if (answer.sessionId && answer.refreshToken) pool.push({ sessionId: answer.sessionId, refreshToken: answer.refreshToken });
      } catch {
        // not JSON: counted by status only
      }
    };
  }

  const started = performance.now();
  let finish: (result: autocannon.Result) => void = () => undefined;
  let failure: (error: Error) => void = () => undefined;
  const finished = new Promise<autocannon.Result>((done, fail) => {
    finish = done;
    failure = fail;
  });
  const instance = autocannon(
    {
      url: job.url,
      method: job.method,
      headers: job.headers,
      body: job.body,
      connections: job.connections,
      pipelining: 1,
      duration: job.seconds,
      timeout: 10,
      requests: [request],
    },
    (error, result) => (error ? failure(error as Error) : finish(result)),
  );
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    responses++;
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) {
      if (count2xx === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count2xx++] = responseTime;
    }
  });
  const result = await finished;
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.slice(0, count2xx).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    id: job.id,
    responses,
    seconds,
    rps: count2xx / seconds,
    latency: {
      mean: count2xx ? sum / count2xx : Number.NaN,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: count2xx ? sorted[count2xx - 1] : Number.NaN,
    },
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    poolExhausted,
    leftoverPool: pool,
    autocannon: { requestsAverage: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 },
  };
}

if (require.main === module) {
  if (process.send) {
    // Forked: one job per message, answered in order.
    let queue = Promise.resolve();
    process.on('message', (job: LoadJob) => {
      queue = queue.then(async () => {
        try {
          process.send!({ ok: true, result: await runJob(job) });
        } catch (error) {
          process.send!({ ok: false, id: job.id, error: (error as Error).stack ?? String(error) });
        }
      });
    });
    process.on('disconnect', () => process.exit(0));
  } else {
    const job = JSON.parse(process.argv[2] ?? '') as LoadJob;
    runJob(job).then(
      (result) => {
        process.stdout.write(`${JSON.stringify({ ...result, leftoverPool: result.leftoverPool?.length })}\n`);
        process.exit(0);
      },
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  }
}
