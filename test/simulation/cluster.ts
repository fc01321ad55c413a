import { SharedSessionCache } from '../../src/session/adapters/shared-session.cache.js';
import type { CircuitBreaker } from '../../src/session/adapters/redis/circuit-breaker.js';
import { Clock } from '../../src/session/ports/clock.js';
import type { CredentialsVerifier } from '../../src/session/ports/credentials-verifier.js';
import type { SessionStore } from '../../src/session/ports/session-store.js';
import { resolveSessionOptions } from '../../src/session/resolve-options.js';
import { SessionService } from '../../src/session/session.service.js';
import { PostgresModel } from './postgres-model.js';
import { breakerFor, HostNetwork, ModelChannel, ModelTier, RedisLink, RedisServer } from './redis-model.js';
import { Latency, Scheduler } from './scheduler.js';
import type { Cause } from './schedule.js';

/**
 * How long after the last fault (and after an end's acknowledgement) the old design let a stale
 * copy live: a reconnection (up to 2 s), the breaker's probe (0.5 s), the retry of a pending mark
 * (0.2 s), and an in-process copy's TTL (10 s). A violation later than this is `settled`: the
 * protocol had every chance to heal. The searches with reconciliation off use it.
 */
export const SETTLE_MS = 15_000;

const SECRET = 'simulation-secret-0123456789-abcdefghij';
const credentials: CredentialsVerifier = { verify: async () => null, findById: async () => null };

/**
 * The module's options in every instance: the defaults, but no binding (clients have no address
 * here), no metrics registry, and 3 sessions per user, so logins evict (an end too).
 */
export const OPTIONS = resolveSessionOptions({ secret: SECRET, credentials, binding: 'off', metrics: false, maxSessionsPerUser: 3 });

/** How the cache runs: `SharedSessionCache`'s options that the simulation varies. */
export interface Protocol {
  /** False: no rounds, and a catch-up marks nothing (what reconciliation prevents shows). @default true */
  reconcile?: boolean;
  /** @default 5000, as `redisSessionAdapters` (reconcileInterval 5 s) */
  reconcileIntervalMs?: number;
}

export const DEFAULT_INTERVAL_MS = 5000;

/** The clock of one host: the simulation's, off by `skewMs` (NTP keeps hosts within a few seconds). */
class HostClock extends Clock {
  constructor(private readonly skewMs: number) {
    super();
  }

  now(): number {
    return Date.now() + this.skewMs;
  }
}

/**
 * The cache an instance runs, as `redisSessionAdapters` builds it (in-process tier 10 s, 10,000
 * entries, `reconcileInterval`), on the host's clock. One place to change when the cache gains options.
 */
function cacheFor(tier: ModelTier, channel: ModelChannel, protocol: Protocol, clock: Clock): SharedSessionCache {
  return new SharedSessionCache(tier, channel, {
    localTtlMs: 10_000,
    localEntries: 10_000,
    reconcileIntervalMs: protocol.reconcileIntervalMs ?? DEFAULT_INTERVAL_MS,
    reconcile: protocol.reconcile ?? true,
    now: () => clock.now(),
  });
}

/**
 * One process of the app: the real `SessionService` and `SharedSessionCache` over its own Redis
 * connections (commands, and the subscriber) and its own PostgreSQL connection, on its host's
 * clock. Death is abrupt: its connections go silent, its timers stop, what it kept in memory
 * (pending revocation marks) is gone. A graceful shutdown finishes the calls under way first.
 */
export class Instance {
  dead = false;
  /** When it died (ms since the epoch). */
  diedAt = Infinity;
  ready = false;
  /** Client calls under way here; those that may end sessions (and so write revocation marks). */
  callsInFlight = 0;
  endsInFlight = 0;
  readonly link: RedisLink;
  readonly subscriber: RedisLink;
  readonly breaker: CircuitBreaker;
  readonly channel: ModelChannel;
  readonly cache: SharedSessionCache;
  readonly service: SessionService;
  readonly clock: Clock;
  private readonly store: SessionStore;

  constructor(
    readonly name: string,
    readonly slot: number,
    redis: RedisServer,
    host: HostNetwork,
    postgres: PostgresModel,
    scheduler: Scheduler,
    protocol: Protocol,
    skewMs: number,
  ) {
    this.clock = new HostClock(skewMs);
    this.link = new RedisLink(redis, host, scheduler);
    this.subscriber = new RedisLink(redis, host, scheduler);
    this.breaker = breakerFor(this.link);
    this.channel = new ModelChannel(this.link, this.subscriber, name);
    this.cache = cacheFor(new ModelTier(this.link, this.breaker), this.channel, protocol, this.clock);
    this.store = postgres.connect(this);
    this.service = new SessionService(this.store, this.cache, this.clock, OPTIONS);
  }

  /** What `SessionModule` does at start: starts the cache adapter; then it serves. */
  async start(): Promise<void> {
    await this.cache.start({ store: this.store });
    if (!this.dead) this.ready = true;
  }

  /** What Nest does on SIGTERM, after the HTTP server finished the requests under way: stop, shutdown hooks, close. */
  async shutdown(): Promise<void> {
    await this.cache.stop();
    await this.service.onApplicationShutdown();
    await this.cache.close();
  }

  kill(): void {
    this.dead = true;
    this.diedAt = Date.now();
    this.ready = false;
    this.link.kill();
    this.subscriber.kill();
    this.channel.close();
    this.breaker.stop();
    void this.cache.close();
  }
}

/** Which of a process's Redis connections a fault hits. */
export type Connection = 'both' | 'command' | 'subscriber';

/** A fault, from when to when (ms into the run; `to` is Infinity while it lasts), and where: `slot` for one host's. */
export interface FaultSpan {
  kind:
    | 'cut'
    | 'reset'
    | 'kill'
    | 'shutdown'
    | 'redisDown'
    | 'redisFrozen'
    | 'redisOom'
    | 'flush'
    | 'postgresDown'
    | 'postgresLosesReplies';
  slot?: number;
  conn?: Connection;
  from: number;
  to: number;
}

/** Everything about a run's world that is not an event: clocks, late delivery, the protocol's options. */
export interface WorldOptions {
  protocol?: Protocol;
  /** Each slot's clock against the simulation's, in ms (cycled over the slots). */
  skewsMs?: number[];
  redisClockOffsetMs?: number;
}

/**
 * The world of one run: Redis, PostgreSQL, the network of each host (slot) and the process
 * running there, and the faults that befall them. Every fault is written to the trace, and to
 * `spans` for the oracle.
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
  readonly spans: FaultSpan[] = [];
  readonly protocol: Protocol;
  readonly intervalMs: number;
  private readonly startedAt = Date.now();
  private generations: number[] = [];
  private lastFaultAt = 0;
  private redisBoot = 0;
  private readonly skews: number[];

  constructor(
    seed: number,
    readonly latency: Latency,
    options: WorldOptions = {},
  ) {
    this.scheduler = new Scheduler(seed, latency);
    this.postgres = new PostgresModel(this.scheduler);
    this.protocol = options.protocol ?? {};
    this.intervalMs = this.protocol.reconcileIntervalMs ?? DEFAULT_INTERVAL_MS;
    this.skews = options.skewsMs?.length ? options.skewsMs : [0];
    this.redis.clockOffsetMs = options.redisClockOffsetMs ?? 0;
    this.redis.lateDelivery = latency.late === true;
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
      this.redis.oom ||
      this.postgres.down ||
      this.postgres.losesReplies ||
      this.hosts.some(
        (host, slot) =>
          (host.split !== null || [...host.links].some((link) => link.split !== null)) && this.instances[slot] && !this.instances[slot]!.dead,
      );
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
    const skew = this.skews[slot % this.skews.length];
    const instance = new Instance(`i${slot}.${this.generations[slot]}`, slot, this.redis, this.hosts[slot], this.postgres, this.scheduler, this.protocol, skew);
    this.instances[slot] = instance;
    this.log(`${instance.name} starts${skew ? ` (clock ${skew > 0 ? '+' : ''}${skew} ms)` : ''}`);
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
    this.noteDeath(instance);
    instance.kill();
    this.fault(`${instance.name} dies`, { kind: 'kill', slot });
  }

  /**
   * SIGTERM: the process takes no new calls, finishes those under way (at most 10 s), stops the
   * cache's jobs, flushes, closes its connections, and exits.
   */
  shutdown(slot: number): void {
    const instance = this.instances[slot];
    if (!instance || instance.dead || !instance.ready) return;
    instance.ready = false;
    const span = this.fault(`${instance.name} shuts down (SIGTERM)`, { kind: 'shutdown', slot }, true);
    const until = Date.now() + 10_000;
    const exit = async () => {
      while (instance.callsInFlight > 0 && Date.now() < until && !instance.dead) await this.scheduler.after(10);
      if (instance.dead) return;
      await Promise.race([instance.shutdown(), this.scheduler.after(10_000)]);
      if (instance.dead) return;
      this.noteDeath(instance);
      instance.kill();
      span.to = this.now();
      this.log(`${instance.name} exits`);
    };
    void exit();
  }

  /** Cuts a host's network to Redis, or one of its process's connections alone. */
  split(slot: number, mode: 'hold' | 'drop', conn: Connection = 'both'): void {
    const host = this.hosts[slot];
    if (!host || this.cutOf(slot)) return;
    const target = conn === 'both' ? host : this.connection(slot, conn);
    if (!target) return;
    target.cut(mode);
    const what = conn === 'both' ? `host ${slot} cut from Redis` : `host ${slot}'s ${conn} connection cut`;
    this.fault(`${what} (${mode === 'hold' ? 'packets held' : 'packets lost'})`, { kind: 'cut', slot, conn }, true);
  }

  heal(slot: number): void {
    const host = this.hosts[slot];
    const span = this.cutOf(slot);
    if (!host || !span) return;
    host.heal();
    for (const link of host.links) link.heal();
    span.to = this.now();
    this.fault(`host ${slot} reaches Redis again`);
  }

  /** A connection of `slot` closes (a proxy or load balancer reset it); the client reconnects. */
  reset(slot: number, conn: Connection = 'both'): void {
    const host = this.hosts[slot];
    if (!host) return;
    const instance = this.instances[slot];
    const links = conn === 'both' ? [...host.links] : [this.connection(slot, conn)].filter((link) => link !== undefined);
    for (const link of links) link.connectionLost();
    this.fault(`host ${slot}'s Redis ${conn === 'both' ? 'connections' : `${conn} connection`} reset${instance && !instance.dead ? '' : ' (no process)'}`, {
      kind: 'reset',
      slot,
      conn,
    });
  }

  snapshot(): void {
    if (this.redis.status !== 'up') return;
    this.redis.snapshot();
    this.log(`Redis snapshot #${this.redis.snapshots.length - 1}`);
  }

  /** Redis dies and is back after `downMs`: empty, or restored from a snapshot taken earlier (`from` picks one). */
  restartRedis(downMs: number, from: 'empty' | number): void {
    if (this.redis.status === 'down') return;
    this.endSpans('redisFrozen');
    this.endSpans('redisOom');
    this.redis.oom = false;
    const snapshots = this.redis.snapshots;
    const index = from === 'empty' || snapshots.length === 0 ? undefined : from % snapshots.length;
    this.redis.crash();
    const span = this.fault(`Redis dies; back in ${downMs} ms ${index === undefined ? 'empty' : `from snapshot #${index}`}`, { kind: 'redisDown' }, true);
    const boot = ++this.redisBoot;
    this.scheduler.run(downMs, () => {
      if (boot !== this.redisBoot) return;
      span.to = this.now();
      this.bootRedis(index === undefined ? undefined : index);
    });
  }

  freeze(): void {
    if (this.redis.status !== 'up') return;
    this.redis.freeze();
    this.fault('Redis freezes', { kind: 'redisFrozen' }, true);
  }

  thaw(): void {
    if (this.redis.status !== 'frozen') return;
    this.redis.thaw();
    this.endSpans('redisFrozen');
    this.fault('Redis thaws');
  }

  /** Redis reaches `maxmemory` (`noeviction`): writes refused, reads and PUBLISH served. */
  outOfMemory(): void {
    if (this.redis.oom || this.redis.status === 'down') return;
    this.redis.oom = true;
    this.fault('Redis out of memory (writes refused)', { kind: 'redisOom' }, true);
  }

  memoryFreed(): void {
    if (!this.redis.oom) return;
    this.redis.oom = false;
    this.endSpans('redisOom');
    this.fault('Redis takes writes again');
  }

  /** FLUSHALL (or every key evicted): connections kept. */
  flush(): void {
    if (this.redis.status !== 'up') return;
    this.redis.flushall();
    this.fault('Redis flushed (FLUSHALL)', { kind: 'flush' });
  }

  postgresDown(): void {
    if (this.postgres.down) return;
    this.postgres.down = true;
    this.fault('PostgreSQL down', { kind: 'postgresDown' }, true);
  }

  postgresUp(): void {
    if (!this.postgres.down) return;
    this.postgres.down = false;
    this.endSpans('postgresDown');
    this.fault('PostgreSQL up');
  }

  /** Every other reply of PostgreSQL is lost after the statement committed (the connection breaks). */
  postgresLosesReplies(on: boolean): void {
    if (this.postgres.losesReplies === on) return;
    this.postgres.losesReplies = on;
    if (on) this.fault('PostgreSQL replies lost after commit', { kind: 'postgresLosesReplies' }, true);
    else {
      this.endSpans('postgresLosesReplies');
      this.fault('PostgreSQL replies arrive again');
    }
  }

  /** Ends every fault: Redis up (empty if it was down), thawed, memory freed, PostgreSQL up and answering, every host reconnected. */
  healAll(): void {
    this.thaw();
    this.memoryFreed();
    if (this.redis.status === 'down') {
      this.redisBoot += 1;
      this.endSpans('redisDown');
      this.bootRedis(undefined);
    }
    this.postgresUp();
    this.postgresLosesReplies(false);
    this.hosts.forEach((_, slot) => this.heal(slot));
  }

  /** Kills every process, so nothing of this run runs on into the next. */
  stop(): void {
    for (const instance of this.instances) if (instance && !instance.dead) instance.kill();
  }

  /** The host's or one connection's cut on `slot`, while it lasts. */
  private cutOf(slot: number): FaultSpan | undefined {
    return this.spans.find((span) => span.kind === 'cut' && span.slot === slot && span.to === Infinity);
  }

  private connection(slot: number, conn: 'command' | 'subscriber'): RedisLink | undefined {
    const instance = this.instances[slot];
    if (!instance || instance.dead) return undefined;
    return conn === 'command' ? instance.link : instance.subscriber;
  }

  private noteDeath(instance: Instance): void {
    // A cut of one of its connections goes with them.
    for (const span of this.spans) if (span.kind === 'cut' && span.slot === instance.slot && span.conn !== 'both' && span.to === Infinity) span.to = this.now();
    const pending = instance.cache.pendingRevocations;
    const inFlight = instance.endsInFlight;
    const alive = this.instances.filter((other) => other && !other.dead && other !== instance).map((other) => other!.name);
    if (pending + inFlight > 0) this.causes.push({ died: instance.name, pending, inFlight, alive, at: this.now() });
    this.log(`  (${instance.name}: revocation marks pending ${pending}, calls that end sessions under way ${inFlight})`);
  }

  private bootRedis(snapshot: number | undefined): void {
    this.redis.boot(snapshot === undefined ? undefined : this.redis.snapshots[snapshot]);
    if (snapshot !== undefined) this.causes.push({ restored: snapshot, takenAt: this.redis.snapshots[snapshot].takenAt - this.startedAt, at: this.now() });
    this.fault(`Redis back ${snapshot === undefined ? 'empty' : `from snapshot #${snapshot}`}`);
  }

  private endSpans(kind: FaultSpan['kind']): void {
    for (const span of this.spans) if (span.kind === kind && span.to === Infinity) span.to = this.now();
  }

  /** Traces a fault; with `span`, records it (lasting until ended when `lasting`, else an instant). */
  private fault(line: string, span?: Omit<FaultSpan, 'from' | 'to'>, lasting = false): FaultSpan {
    this.lastFaultAt = Date.now();
    this.log(line);
    const recorded = { ...span, from: this.now(), to: lasting ? Infinity : this.now() } as FaultSpan;
    if (span) this.spans.push(recorded);
    return recorded;
  }
}
