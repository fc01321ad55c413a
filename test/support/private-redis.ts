import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './private-postgres';

/** Options of `PrivateRedis.create`. */
export interface PrivateRedisOptions {
  /**
   * Keep snapshots: the server writes `dump.rdb` in a temporary directory of its own (`--dir`),
   * on `save()` only, and loads it when it starts, so `restartFrom` can bring an old one back.
   * @default false
   */
  snapshots?: boolean;
}

const DUMP = 'dump.rdb';

/**
 * A redis-server of the test's own on a free loopback port, that the test may kill, freeze
 * (SIGSTOP) and restart — and, created with `snapshots`, restart from a snapshot taken earlier
 * (a Redis restored from a backup, or a replica promoted with old data). The shared server is
 * never touched.
 */
export class PrivateRedis {
  private process?: ChildProcess;
  private snapshotCount = 0;

  private constructor(
    readonly port: number,
    /** Where the server reads and writes `dump.rdb` (and `save()` keeps its copies); none without `snapshots`. */
    readonly dir?: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  static async create(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const dir = options.snapshots ? mkdtempSync(join(tmpdir(), 'private-redis-')) : undefined;
    const redis = new PrivateRedis(await freePort(), dir);
    await redis.start();
    return redis;
  }

  /** Starts the server (again) on its port; with `snapshots`, from the `dump.rdb` in its directory, if any. */
  async start(): Promise<void> {
    const persistence = this.dir ? ['--dir', this.dir, '--dbfilename', DUMP] : [];
    this.process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', ...persistence],
      { stdio: 'ignore' },
    );
    await waitForRedis(this.port);
  }

  /**
   * Writes the data set to disk now (SAVE) and keeps a copy of it aside.
   * @returns the copy's path, for `restartFrom`
   */
  async save(): Promise<string> {
    if (!this.dir) throw new Error('PrivateRedis.save needs a server created with { snapshots: true }');
    const client = new Redis({ port: this.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    try {
      await client.save();
    } finally {
      client.disconnect();
    }
    const copy = join(this.dir, `snapshot-${++this.snapshotCount}.rdb`);
    copyFileSync(join(this.dir, DUMP), copy);
    return copy;
  }

  /**
   * Kills the server and starts it again on the same port with the data of `snapshot` (a path
   * `save()` returned): everything written since that `save()` is gone.
   */
  async restartFrom(snapshot: string): Promise<void> {
    if (!this.dir) throw new Error('PrivateRedis.restartFrom needs a server created with { snapshots: true }');
    this.thaw();
    await this.stop();
    copyFileSync(snapshot, join(this.dir, DUMP));
    await this.start();
  }

  /** Kills the server (connections drop at once). */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server: connections stay open, nothing answers. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    this.thaw();
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits until a redis-server answers PING on `port` (5 s at most). */
export async function waitForRedis(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`redis-server did not start on port ${port}`);
}
