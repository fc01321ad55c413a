import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './private-postgres';
import { waitForRedis } from './private-redis';

/** A 3-master Redis Cluster of the test's own on free loopback ports. */
export class PrivateRedisCluster {
  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly processes: ChildProcess[],
  ) {}

  /** `host:port,…`, as REDIS_CLUSTER_NODES takes it. */
  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  static async create(): Promise<PrivateRedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
    const ports: number[] = [];
    // Cluster bus ports are port + 10000: pick ports whose bus port is free too.
    while (ports.length < 3) {
      const port = await freePort();
      if (port < 55000 && !ports.includes(port)) ports.push(port);
    }
    const processes = ports.map((port) =>
      spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000',
          '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning',
        ],
        { stdio: 'ignore' },
      ),
    );
    const cluster = new PrivateRedisCluster(ports, dir, processes);
    for (const port of ports) await waitForRedis(port);
    execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      stdio: 'pipe',
    });
    for (let i = 0; i < 100; i++) {
      const info = execFileSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info']).toString();
      if (info.includes('cluster_state:ok')) return cluster;
      await new Promise((r) => setTimeout(r, 100));
    }
    await cluster.destroy();
    throw new Error('Redis Cluster did not reach cluster_state:ok');
  }

  async destroy(): Promise<void> {
    await Promise.all(
      this.processes.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}
