import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './private-postgres';

/** Debian's Prometheus (`apt-get install prometheus`), or PROMETHEUS_PATH. */
export const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
export const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';

export interface PrometheusAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

/**
 * A Prometheus of the test's own: a private process on a free loopback port, with its own
 * temporary data directory and configuration (never a system service), scraping `target`
 * (`host:port`) every second and evaluating `rules` (YAML text) every second.
 */
export class PrivatePrometheus {
  private constructor(
    private readonly process: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    private readonly output: string[],
  ) {}

  static async start(target: string, rules: string): Promise<PrivatePrometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'private-prometheus-'));
    writeFileSync(join(dir, 'rules.yml'), rules);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
        'rule_files: [rules.yml]',
        'scrape_configs:',
        `  - { job_name: session-app, metrics_path: /metrics, static_configs: [{ targets: ['${target}'] }] }`,
        '',
      ].join('\n'),
    );
    execFileSync(PROMTOOL, ['check', 'config', join(dir, 'prometheus.yml')], { stdio: 'pipe' });
    const port = await freePort();
    const output: string[] = [];
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const prometheus = new PrivatePrometheus(child, dir, `http://127.0.0.1:${port}`, output);
    await prometheus.waitUntil(async () => (await fetch(`${prometheus.url}/-/ready`)).ok, 15_000, 'Prometheus to be ready');
    return prometheus;
  }

  /** What `/api/v1/alerts` answers: the alerts pending or firing now. */
  async alerts(): Promise<PrometheusAlert[]> {
    const body = (await (await fetch(`${this.url}/api/v1/alerts`)).json()) as { data: { alerts: PrometheusAlert[] } };
    return body.data.alerts;
  }

  /** The value of an instant query's first sample (NaN when it has none). */
  async query(expr: string): Promise<number> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
    return Number(body.data.result[0]?.value[1] ?? Number.NaN);
  }

  /** Waits until `alertname` fires, while `meanwhile` (if given) keeps running between polls; answers the alert. */
  async waitForFiring(alertname: string, timeoutMs: number, meanwhile?: () => Promise<unknown>): Promise<PrometheusAlert> {
    let firing: PrometheusAlert | undefined;
    await this.waitUntil(
      async () => {
        await meanwhile?.();
        firing = (await this.alerts()).find((a) => a.labels.alertname === alertname && a.state === 'firing');
        return firing !== undefined;
      },
      timeoutMs,
      `alert ${alertname} to fire`,
    );
    return firing!;
  }

  async waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await condition().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}. Prometheus said:\n${this.output.join('').slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null) {
      const exited = new Promise((resolve) => this.process.once('exit', resolve));
      this.process.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether Debian's Prometheus is installed here (`apt-get install prometheus`). */
export function prometheusInstalled(): boolean {
  try {
    execFileSync(PROMETHEUS, ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
