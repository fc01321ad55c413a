import { SharedSessionCache } from '../../src/session/adapters/shared-session.cache.js';
import type { CircuitBreaker } from '../../src/session/adapters/redis/circuit-breaker.js';
import { SystemClock } from '../../src/session/ports/clock.js';
import type { CredentialsVerifier } from '../../src/session/ports/credentials-verifier.js';
import type { SessionStore } from '../../src/session/ports/session-store.js';
import { resolveSessionOptions } from '../../src/session/resolve-options.js';
import { SessionService } from '../../src/session/session.service.js';
import { PostgresModel } from './postgres-model.js';
import { breakerFor, HostNetwork, ModelChannel, ModelTier, RedisLink, RedisServer } from './redis-model.js';
import { Latency, Scheduler } from './scheduler.js';
import type { Cause } from './schedule.js';

/**
 * How long after the last fault (and after an end's acknowledgement) the design lets a stale copy
 * live: a reconnection (up to 2 s), the breaker's probe (0.5 s), the retry of a pending mark
 * (0.2 s) — and then the in-process tier of an instance that read the entry just before the mark
 * landed, up to its TTL (10 s), as the delivered mark is not published. A violation later than
 * this is `settled`: the protocol had every chance to heal.
 */
export const SETTLE_MS = 15_000;

const SECRET = 'simulation-secret-0123456789-abcdefghij';
const credentials: CredentialsVerifier = { verify: async () => null, findById: async () => null };

/** The module's options in every instance: the defaults, but no binding (clients have no address here) and no metrics registry. */
const OPTIONS = resolveSessionOptions({ secret: SECRET, credentials, binding: 'off', metrics: false });

/**
 * The cache an instance runs, as `redisSessionAdapters` builds it (in-process tier 10 s, 10,000
 * entries). One place to change when the cache gains options.
 */
function cacheFor(tier: ModelTier, channel: ModelChannel): SharedSessionCache {
  return new SharedSessionCache(tier, channel, { localTtlMs: 10_000, localEntries: 10_000 });
}

/**
 * One process of the app: the real `SessionService` and `SharedSessionCache` over its own Redis
 * connection and its own PostgreSQL connection. Death is abrupt: its connections go silent, its
 * timers stop, what it kept in memory (pending revocation marks) is gone.
 */
export class Instance {
  dead = false;
  ready = false;
  /** Client calls that may end sessions (and so write revocation marks) under way here. */
  endsInFlight = 0;
  readonly link: RedisLink;
  readonly breaker: CircuitBreaker;
  readonly channel: ModelChannel;
  readonly cache: SharedSessionCache;
  readonly service: SessionService;
  private readonly store: SessionStore;

  constructor(
    readonly name: string,
    redis: RedisServer,
    host: HostNetwork,
    postgres: PostgresModel,
    scheduler: Scheduler,
  ) {
    this.link = new RedisLink(redis, host, scheduler);
    this.breaker = breakerFor(this.link);
    this.channel = new ModelChannel(this.link, name);
    this.cache = cacheFor(new ModelTier(this.link, this.breaker), this.channel);
    this.store = postgres.connect(this);
    this.service = new SessionService(this.store, this.cache, new SystemClock(), OPTIONS);
  }

  /** What `SessionModule` does at start: starts the cache adapter; then it serves. */
  async start(): Promise<void> {
    await this.cache.start({ store: this.store });
    if (!this.dead) this.ready = true;
  }

  kill(): void {
    this.dead = true;
    this.ready = false;
    this.link.kill();
    this.channel.close();
    this.breaker.stop();
    void this.cache.close();
  }
}

/**
 * The world of one run: Redis, PostgreSQL, the network of each host (slot) and the process
 * running there, and the faults that befall them. Every fault is written to the trace.
 */
export class Cluster {
  readonly scheduler: Scheduler;
  readonly redis = new RedisServer();
  readonly postgres: PostgresModel;
  readonly hosts: HostNetwork[] = [];
  readonly instances: Array<Instance | undefined> = [];
  readonly trace: string[] = [];
  /** Restores from a snapshot and deaths with undelivered marks: what a violation may come from. */
  readonly causes: Cause[] = [];
  private readonly startedAt = Date.now();
  private generations: number[] = [];
  private lastFaultAt = 0;
  private redisBoot = 0;

  constructor(seed: number, latency: Latency) {
    this.scheduler = new Scheduler(seed, latency);
    this.postgres = new PostgresModel(this.scheduler);
  }

  log(line: string): void {
    this.trace.push(`${(this.now() / 1000).toFixed(3).padStart(8)}s  ${line}`);
  }

  /** Milliseconds into the run. */
  now(): number {
    return Date.now() - this.startedAt;
  }

  /**
   * Since when (ms into the run) no fault is on (a cut host where no process runs does not
   * count) and none has happened; null while one is on.
   */
  quietSince(): number | null {
    const faultOn =
      this.redis.status !== 'up' ||
      this.postgres.down ||
      this.hosts.some((host, slot) => host.split !== null && this.instances[slot] && !this.instances[slot]!.dead);
    return faultOn ? null : Math.max(0, this.lastFaultAt - this.startedAt);
  }

  /** The process in `slot`, if it serves. */
  serving(slot: number): Instance | undefined {
    const instance = this.instances[slot];
    return instance?.ready ? instance : undefined;
  }

  /** Starts a process in `slot` (a restart if one runs there: that one dies first). */
  start(slot: number): Instance {
    if (this.instances[slot] && !this.instances[slot]!.dead) this.kill(slot);
    while (this.hosts.length <= slot) this.hosts.push(new HostNetwork());
    this.generations[slot] = (this.generations[slot] ?? 0) + 1;
    const instance = new Instance(`i${slot}.${this.generations[slot]}`, this.redis, this.hosts[slot], this.postgres, this.scheduler);
    this.instances[slot] = instance;
    this.log(`${instance.name} starts`);
    void instance.start().then(() => instance.ready && this.log(`${instance.name} serves`));
    return instance;
  }

  /** Starts a process in `slot` if none runs there (scaling out: nothing dies). */
  join(slot: number): void {
    if (!this.instances[slot] || this.instances[slot]!.dead) this.start(slot);
  }

  kill(slot: number): void {
    const instance = this.instances[slot];
    if (!instance || instance.dead) return;
    const pending = instance.cache.pendingRevocations;
    const inFlight = instance.endsInFlight;
    instance.kill();
    const alive = this.instances.filter((other) => other && !other.dead).map((other) => other!.name);
    if (pending + inFlight > 0) this.causes.push({ died: instance.name, pending, inFlight, alive, at: this.now() });
    this.fault(`${instance.name} dies (revocation marks pending: ${pending}; calls that end sessions under way: ${inFlight})`);
  }

  split(slot: number, mode: 'hold' | 'drop'): void {
    const host = this.hosts[slot];
    if (!host || host.split) return;
    host.cut(mode);
    this.fault(`host ${slot} cut from Redis (${mode === 'hold' ? 'packets held' : 'packets lost'})`);
  }

  heal(slot: number): void {
    const host = this.hosts[slot];
    if (!host?.split) return;
    host.heal();
    this.fault(`host ${slot} reaches Redis again`);
  }

  /** The connections of `slot` close (a proxy or load balancer reset them); the client reconnects. */
  reset(slot: number): void {
    const host = this.hosts[slot];
    if (!host) return;
    for (const link of host.links) {
      link.connectionLost();
      link.reconnectSoon();
    }
    this.fault(`host ${slot}'s Redis connections reset`);
  }

  snapshot(): void {
    if (this.redis.status !== 'up') return;
    this.redis.snapshot();
    this.log(`Redis snapshot #${this.redis.snapshots.length - 1}`);
  }

  /** Redis dies and is back after `downMs`: empty, or restored from a snapshot taken earlier (`from` picks one). */
  restartRedis(downMs: number, from: 'empty' | number): void {
    if (this.redis.status === 'down') return;
    const snapshots = this.redis.snapshots;
    const index = from === 'empty' || snapshots.length === 0 ? undefined : from % snapshots.length;
    this.redis.crash();
    this.fault(`Redis dies; back in ${downMs} ms ${index === undefined ? 'empty' : `from snapshot #${index}`}`);
    const boot = ++this.redisBoot;
    this.scheduler.run(downMs, () => {
      if (boot === this.redisBoot) this.bootRedis(index === undefined ? undefined : index);
    });
  }

  freeze(): void {
    if (this.redis.status !== 'up') return;
    this.redis.freeze();
    this.fault('Redis freezes');
  }

  thaw(): void {
    if (this.redis.status !== 'frozen') return;
    this.redis.thaw();
    this.fault('Redis thaws');
  }

  postgresDown(): void {
    if (this.postgres.down) return;
    this.postgres.down = true;
    this.fault('PostgreSQL down');
  }

  postgresUp(): void {
    if (!this.postgres.down) return;
    this.postgres.down = false;
    this.fault('PostgreSQL up');
  }

  /** Ends every fault: Redis up (empty if it was down), thawed, PostgreSQL up, every host reconnected. */
  healAll(): void {
    this.thaw();
    if (this.redis.status === 'down') {
      this.redisBoot += 1;
      this.bootRedis(undefined);
    }
    this.postgresUp();
    this.hosts.forEach((_, slot) => this.heal(slot));
  }

  /** Kills every process, so nothing of this run runs on into the next. */
  stop(): void {
    for (const instance of this.instances) if (instance && !instance.dead) instance.kill();
  }

  private bootRedis(snapshot: number | undefined): void {
    this.redis.boot(snapshot === undefined ? undefined : this.redis.snapshots[snapshot]);
    if (snapshot !== undefined) this.causes.push({ restored: snapshot, takenAt: this.redis.snapshots[snapshot].takenAt - this.startedAt, at: this.now() });
    this.fault(`Redis back ${snapshot === undefined ? 'empty' : `from snapshot #${snapshot}`}`);
  }

  private fault(line: string): void {
    this.lastFaultAt = Date.now();
    this.log(line);
  }
}
