import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './private-postgres';
import { waitForRedis } from './private-redis';
import { TcpProxy } from './tcp-proxy';

/** The master's name the sentinels monitor. */
export const SENTINEL_MASTER_NAME = 'mymaster';
/** Milliseconds without an answer after which a sentinel holds the master down (quorum 2 of 3). */
export const DOWN_AFTER_MS = 1000;

/**
 * A Redis Sentinel group of the test's own on free loopback ports: a master, one replica and
 * three sentinels (quorum 2). The replica replicates through a `TcpProxy`, so a test can hold
 * replication (`replication.hold()`): what the master takes meanwhile never reaches the replica,
 * as with asynchronous replication that lags when the master dies.
 *
 * The sentinels' failover timeout is 30 s: they leave the replica's odd master address (the
 * proxy) alone that long (`+fix-slave-config`), which covers a test's set-up.
 */
export class PrivateRedisSentinel {
  private constructor(
    private readonly dir: string,
    /** Ports of the two data servers: [first master, first replica]. */
    readonly dataPorts: [number, number],
    readonly sentinelPorts: number[],
    readonly replication: TcpProxy,
    private readonly processes: Map<number, ChildProcess>,
  ) {}

  /** `host:port,…` of the sentinels, as REDIS_SENTINELS takes it. */
  get sentinels(): string {
    return this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',');
  }

  static async create(): Promise<PrivateRedisSentinel> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
    const processes = new Map<number, ChildProcess>();
    const master = await freePort();
    const replica = await freePort();
    const dataServer = (port: number, extra: string[]) =>
      spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', `dump-${port}.rdb`, '--loglevel', 'warning', ...extra],
        { stdio: 'ignore' },
      );
    processes.set(master, dataServer(master, []));
    await waitForRedis(master);
    const replication = await TcpProxy.start(master);
    processes.set(replica, dataServer(replica, ['--replicaof', '127.0.0.1', String(replication.port)]));
    await waitForRedis(replica);
    const sentinelPorts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const config = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        config,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 30000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
          `logfile ${join(dir, `sentinel-${port}.log`)}`,
          '',
        ].join('\n'),
      );
      processes.set(port, spawn('redis-server', [config, '--sentinel', '--loglevel', 'notice'], { stdio: 'ignore' }));
      sentinelPorts.push(port);
    }
    const group = new PrivateRedisSentinel(dir, [master, replica], sentinelPorts, replication, processes);
    try {
      for (const port of sentinelPorts) await waitForRedis(port);
      await group.waitUntil(async () => (await group.replicaInfo()).includes('master_link_status:up'), 'the replica to sync');
      // Every sentinel knows the replica and the two other sentinels: a failover can happen.
      await group.waitUntil(async () => {
        for (const port of sentinelPorts) {
          const [master] = (await group.ask(port, ['sentinel', 'masters'])) as string[][];
          const fields = Object.fromEntries(pairs(master));
          if (fields['num-slaves'] !== '1' || fields['num-other-sentinels'] !== '2') return false;
        }
        return true;
      }, 'the sentinels to know each other and the replica');
    } catch (error) {
      await group.destroy();
      throw error;
    }
    return group;
  }

  /** The master's port, as the sentinels say (after a failover: the promoted replica's). */
  async masterPort(): Promise<number> {
    for (const port of this.sentinelPorts) {
      try {
        const [, masterPort] = (await this.ask(port, ['sentinel', 'get-master-addr-by-name', SENTINEL_MASTER_NAME])) as string[];
        return Number(masterPort);
      } catch {
        // that sentinel is away: ask the next
      }
    }
    throw new Error('no sentinel answers');
  }

  /** Kills a data server (a crash: connections drop at once, nothing more is replicated). */
  async kill(port: number): Promise<void> {
    const child = this.processes.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Runs one command on a server of the group, on a connection of its own. */
  async ask(port: number, command: string[]): Promise<unknown> {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, commandTimeout: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.call(command[0], ...command.slice(1));
    } finally {
      client.disconnect();
    }
  }

  /** What the sentinels logged (events: `+sdown`, `+odown`, `+vote-for-leader`, `+switch-master`…), to tell why a failover did not happen. */
  sentinelLogs(): string {
    return this.sentinelPorts
      .map((port) => {
        try {
          return `--- sentinel ${port}\n${readFileSync(join(this.dir, `sentinel-${port}.log`), 'utf8')}`;
        } catch {
          return `--- sentinel ${port}: no log`;
        }
      })
      .join('\n');
  }

  /** `INFO replication` of the first replica. */
  replicaInfo(): Promise<string> {
    return this.ask(this.dataPorts[1], ['info', 'replication']) as Promise<string>;
  }

  async destroy(): Promise<void> {
    await this.replication.close();
    await Promise.all([...this.processes.keys()].map((port) => this.kill(port)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitUntil(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Timed out waiting for ${what}`);
  }
}

/** [k1, v1, k2, v2, …] → [[k1, v1], …]. */
function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}
