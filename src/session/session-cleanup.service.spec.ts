import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { MemoryHousekeepingLock } from './adapters/memory/memory-housekeeping.lock.js';
import { MemoryAuditLog } from './adapters/memory/memory-audit.log.js';
import { MemorySessionStore } from './adapters/memory/memory-session.store.js';
import { SessionEvent } from './session.events.js';
import { SessionStoreUnavailableError } from './errors/session.errors.js';
import { HOUSEKEEPING_JOBS, HousekeepingLock } from './ports/housekeeping-lock.js';
import { Clock } from './ports/clock.js';
import { SessionStore } from './ports/session-store.js';
import { RESOLVED_SESSION_OPTIONS } from './session.constants.js';
import { SessionCleanupError, SessionCleanupOptions, SessionCleanupService } from './session-cleanup.service.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const DAY = 86_400;
const IDLE_TTL = 7 * DAY;
const RETENTION = 30 * DAY;
const REFRESH_TTL = 7 * DAY;
const ACCESS_TTL = 900;

class FakeClock extends Clock {
  constructor(public ms: number = T0) {
    super();
  }

  now(): number {
    return this.ms;
  }
}

const at = (secondsFromT0: number) => new Date(T0 + secondsFromT0 * 1000);

/** A session opened at `createdAt`, ending at `expiresAt`, last used at `lastActivityAt`. */
async function seed(
  store: MemorySessionStore,
  times: { createdAt: number; expiresAt: number; lastActivityAt?: number; revokedAt?: number },
): Promise<string> {
  const id = randomUUID();
  await store.insert({
    id,
    userId: 'user-1',
    roles: ['user'],
    accessHash: randomUUID(),
    refreshHash: randomUUID(),
    accessExpiresAt: at(times.createdAt + 900),
    expiresAt: at(times.expiresAt),
    absoluteExpiresAt: at(times.createdAt + 60 * DAY),
    createdAt: at(times.createdAt),
    authenticatedAt: at(times.createdAt),
    lastActivityAt: at(times.lastActivityAt ?? times.createdAt),
    ipAddress: null,
    userAgent: null,
    deviceName: null,
    deviceType: null,
    deviceId: null,
    data: null,
  });
  if (times.revokedAt !== undefined) {
    const now = at(times.revokedAt);
    await store.revoke({ id }, 'logout', { now, activeSince: new Date(now.getTime() - IDLE_TTL * 1000) });
  }
  return id;
}

/**
 * A session rotated at each of `rotatedAt` (seconds from T0, in order), live throughout.
 * @returns its id and the refresh hashes its rotations rotated away, in the same order
 */
async function seedRotations(store: MemorySessionStore, rotatedAt: number[]): Promise<{ id: string; rotatedAway: string[] }> {
  const window = (seconds: number) => ({ now: at(seconds), activeSince: at(seconds - IDLE_TTL) });
  const created = rotatedAt[0] - 60;
  const id = await seed(store, { createdAt: created, expiresAt: created + REFRESH_TTL });
  let refreshHash = (await store.findById(id))!.refreshHash;
  const rotatedAway: string[] = [];
  for (const seconds of rotatedAt) {
    const next = randomUUID();
    const rotation = await store.rotate(
      refreshHash,
      { accessHash: randomUUID(), refreshHash: next, accessExpiresAt: at(seconds + ACCESS_TTL), expiresAt: at(seconds + REFRESH_TTL), rotationSecret: 'secret' },
      window(seconds),
    );
    expect(rotation).not.toBeNull();
    rotatedAway.push(refreshHash);
    refreshHash = next;
  }
  return { id, rotatedAway };
}

function setup(overrides: Partial<SessionCleanupOptions> = {}, lock = new MemoryHousekeepingLock(), audit?: MemoryAuditLog) {
  const clock = new FakeClock();
  const store = new MemorySessionStore();
  const options: SessionCleanupOptions = {
    cleanupInterval: 300,
    retention: RETENTION,
    idleTtl: IDLE_TTL,
    refreshTtl: REFRESH_TTL,
    accessTtl: ACCESS_TTL,
    cleanupBatchSize: 2,
    cleanupBatchPauseMs: 0,
    ...overrides,
  };
  const service = new SessionCleanupService(options, store, lock, clock, audit);
  return { clock, store, lock, service };
}

/** A promise the test settles by hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

let log: ReturnType<typeof vi.spyOn>;
let warn: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  vi.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('SessionCleanupService', () => {
  describe('runOnce', () => {
    it('deletes audit entries older than the retention too, in batches, and keeps the recent ones', async () => {
      const audit = new MemoryAuditLog();
      const { service } = setup({ cleanupBatchSize: 2 }, new MemoryHousekeepingLock(), audit);
      const entry = (days: number) => new SessionEvent('login', at(days * DAY), 'user-1', null);
      await audit.append([entry(-40), entry(-35), entry(-31), entry(-29), entry(-1)]);
      expect(await service.runOnce()).toEqual({ deleted: 0, rotatedDeleted: 0, auditDeleted: 3, skipped: false });
      const { items } = await audit.page({ offset: 0, limit: 10 });
      expect(items.map((e) => e.at)).toEqual([at(-1 * DAY), at(-29 * DAY)]);
    });

    it('deletes sessions that ended before the retention cutoff, in batches, and keeps the rest', async () => {
      const { store, service } = setup({ cleanupBatchSize: 2 });
      const old = [
        // revoked 40 days ago
        await seed(store, { createdAt: -45 * DAY, expiresAt: 10 * DAY, revokedAt: -40 * DAY }),
        await seed(store, { createdAt: -45 * DAY, expiresAt: 10 * DAY, revokedAt: -31 * DAY }),
        // expired 35 days ago
        await seed(store, { createdAt: -42 * DAY, expiresAt: -35 * DAY, lastActivityAt: -36 * DAY }),
        // idle since 40 days ago: over 33 days ago
        await seed(store, { createdAt: -41 * DAY, expiresAt: 10 * DAY, lastActivityAt: -40 * DAY }),
        await seed(store, { createdAt: -50 * DAY, expiresAt: -31 * DAY, lastActivityAt: -38 * DAY }),
      ];
      const kept = [
        // live
        await seed(store, { createdAt: -1 * DAY, expiresAt: 6 * DAY, lastActivityAt: -60 }),
        // revoked 29 days ago: inside retention
        await seed(store, { createdAt: -35 * DAY, expiresAt: 10 * DAY, revokedAt: -29 * DAY }),
        // expired 10 days ago
        await seed(store, { createdAt: -17 * DAY, expiresAt: -10 * DAY, lastActivityAt: -11 * DAY }),
        // idle, over 29 days ago (last activity 36 days ago + 7 days idle)
        await seed(store, { createdAt: -37 * DAY, expiresAt: 10 * DAY, lastActivityAt: -36 * DAY }),
      ];
      const deleteEnded = vi.spyOn(store, 'deleteEnded');

      await expect(service.runOnce()).resolves.toEqual({ deleted: 5, rotatedDeleted: 0, auditDeleted: 0, skipped: false });

      // 2 + 2 + 1: the last, short batch ends the pass.
      expect(deleteEnded.mock.calls.map((call) => call[2])).toEqual([2, 2, 2]);
      expect(deleteEnded.mock.calls.every(([before, idle]) => before.getTime() === T0 - RETENTION * 1000 && idle === IDLE_TTL)).toBe(true);
      for (const id of old) expect(await store.findById(id)).toBeNull();
      for (const id of kept) expect(await store.findById(id)).not.toBeNull();
      // 3 batches of sessions, 1 of rotation records (none old enough).
      expect(log).toHaveBeenCalledWith(expect.stringMatching(/deleted 5 sessions .* 4 batch/));

      await expect(service.runOnce()).resolves.toEqual({ deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
    });

    it('deletes the rotation records older than refreshTtl, in batches, of sessions it keeps', async () => {
      const { store, service } = setup({ cleanupBatchSize: 2 });
      // Rotated every few days for 20 days, up to an hour ago; the cut-off is 7 days ago.
      const { id, rotatedAway } = await seedRotations(store, [-20 * DAY, -14 * DAY, -8 * DAY, -7 * DAY - 1, -6 * DAY, -3600]);
      const deleteRotatedBefore = vi.spyOn(store, 'deleteRotatedBefore');

      await expect(service.runOnce()).resolves.toEqual({ deleted: 0, rotatedDeleted: 4, auditDeleted: 0, skipped: false });

      // 2 + 2, then an empty batch ends it.
      expect(deleteRotatedBefore.mock.calls).toEqual([
        [at(-REFRESH_TTL), 2],
        [at(-REFRESH_TTL), 2],
        [at(-REFRESH_TTL), 2],
      ]);
      for (const hash of rotatedAway.slice(0, 4)) expect(await store.findByRotatedRefreshHash(hash)).toBeNull();
      for (const hash of rotatedAway.slice(4)) expect(await store.findByRotatedRefreshHash(hash)).toMatchObject({ id });
      expect(await store.findById(id)).toMatchObject({ revokedAt: null });
      expect(log).toHaveBeenCalledWith(expect.stringMatching(/deleted 0 sessions .*, 4 rotated refresh tokens from before 2025-12-25T12:00:00.000Z/));

      await expect(service.runOnce()).resolves.toEqual({ deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
    });

    it('keeps rotation records for accessTtl when that is the longer', async () => {
      const { store, service } = setup({ accessTtl: 10 * DAY });
      const { rotatedAway } = await seedRotations(store, [-12 * DAY, -9 * DAY, -6 * DAY]);
      const deleteRotatedBefore = vi.spyOn(store, 'deleteRotatedBefore');
      await expect(service.runOnce()).resolves.toEqual({ deleted: 0, rotatedDeleted: 1, auditDeleted: 0, skipped: false });
      expect(deleteRotatedBefore).toHaveBeenCalledWith(at(-10 * DAY), 2);
      expect(await store.findByRotatedRefreshHash(rotatedAway[0])).toBeNull();
      expect(await store.findByRotatedRefreshHash(rotatedAway[1])).not.toBeNull();
    });

    it('reads the cutoff from the clock: what was recent becomes old as time passes', async () => {
      const { clock, store, service } = setup();
      const id = await seed(store, { createdAt: -2 * DAY, expiresAt: 10 * DAY, revokedAt: -1 * DAY });
      await expect(service.runOnce()).resolves.toEqual({ deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
      clock.ms += 29 * DAY * 1000 + 1000;
      await expect(service.runOnce()).resolves.toEqual({ deleted: 1, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
      expect(await store.findById(id)).toBeNull();
    });

    it('retention 0 deletes every ended session at once, never a live one', async () => {
      const { store, service } = setup({ retention: 0 });
      const ended = await seed(store, { createdAt: -2 * DAY, expiresAt: 10 * DAY, revokedAt: -1 });
      const live = await seed(store, { createdAt: -2 * DAY, expiresAt: 10 * DAY, lastActivityAt: -1 });
      await expect(service.runOnce()).resolves.toEqual({ deleted: 1, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
      expect(await store.findById(ended)).toBeNull();
      expect(await store.findById(live)).not.toBeNull();
    });

    it('is skipped while another instance holds the lock, and runs once it is free', async () => {
      const lock = new MemoryHousekeepingLock();
      const a = setup({}, lock);
      const b = setup({}, lock);
      for (const s of [a, b]) await seed(s.store, { createdAt: -45 * DAY, expiresAt: 10 * DAY, revokedAt: -40 * DAY });

      const [ra, rb] = await Promise.all([a.service.runOnce(), b.service.runOnce()]);
      expect([ra, rb]).toEqual([
        { deleted: 1, rotatedDeleted: 0, auditDeleted: 0, skipped: false },
        { deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: true },
      ]);
      expect(lock.isHeld(HOUSEKEEPING_JOBS.cleanup)).toBe(false);
      await expect(b.service.runOnce()).resolves.toEqual({ deleted: 1, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
    });

    it('joins the pass already running in this instance', async () => {
      const { store, service } = setup();
      await seed(store, { createdAt: -45 * DAY, expiresAt: 10 * DAY, revokedAt: -40 * DAY });
      const first = service.runOnce();
      expect(service.runOnce()).toBe(first);
      await expect(first).resolves.toEqual({ deleted: 1, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
    });

    it('rejects when the store fails, reporting what was already deleted, and releases the lock', async () => {
      const { store, service, lock } = setup({ cleanupBatchSize: 1 });
      const deleteEnded = vi
        .spyOn(store, 'deleteEnded')
        .mockResolvedValueOnce(1)
        .mockRejectedValueOnce(new SessionStoreUnavailableError(new Error('ECONNREFUSED')));
      const error = await service.runOnce().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionCleanupError);
      expect(error).toMatchObject({ deleted: 1 });
      expect((error as Error).message).toMatch(/after deleting 1 rows: Session store unavailable.*ECONNREFUSED/);
      expect(lock.isHeld(HOUSEKEEPING_JOBS.cleanup)).toBe(false);

      deleteEnded.mockRejectedValueOnce(new SessionStoreUnavailableError());
      await expect(service.runOnce()).rejects.toBeInstanceOf(SessionStoreUnavailableError);
    });

    it('pauses between batches, not before the first or after the last', async () => {
      vi.useFakeTimers({ now: T0 });
      const { store, service } = setup({ cleanupBatchSize: 1, cleanupBatchPauseMs: 100 });
      for (let i = 0; i < 3; i++) await seed(store, { createdAt: -45 * DAY, expiresAt: 10 * DAY, revokedAt: -40 * DAY });
      const deleteEnded = vi.spyOn(store, 'deleteEnded');
      let result: unknown;
      void service.runOnce().then((r) => (result = r));

      await vi.advanceTimersByTimeAsync(0);
      expect(deleteEnded).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(99);
      expect(deleteEnded).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(deleteEnded).toHaveBeenCalledTimes(2);
      await vi.advanceTimersByTimeAsync(200);
      // 3 full batches of 1, then a 4th that finds nothing.
      expect(deleteEnded).toHaveBeenCalledTimes(4);
      expect(result).toEqual({ deleted: 3, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('the periodic job', () => {
    it('runs every cleanupInterval seconds after bootstrap, and stops on shutdown', async () => {
      vi.useFakeTimers({ now: T0 });
      const { store, service } = setup({ cleanupInterval: 300 });
      const runOnce = vi.spyOn(service, 'runOnce');
      await seed(store, { createdAt: -45 * DAY, expiresAt: 10 * DAY, revokedAt: -40 * DAY });

      service.onApplicationBootstrap();
      await vi.advanceTimersByTimeAsync(299_000);
      expect(runOnce).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(runOnce).toHaveBeenCalledTimes(1);
      expect(log).toHaveBeenCalledWith(expect.stringMatching(/deleted 1 sessions/));
      await vi.advanceTimersByTimeAsync(600_000);
      expect(runOnce).toHaveBeenCalledTimes(3);

      await service.onApplicationShutdown();
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(900_000);
      expect(runOnce).toHaveBeenCalledTimes(3);
    });

    it('calls unref on its timer so it never keeps the process alive', () => {
      const { service } = setup({ cleanupInterval: 300 });
      const unref = vi.fn();
      vi.spyOn(globalThis, 'setTimeout').mockReturnValue({ unref } as unknown as NodeJS.Timeout);
      service.onApplicationBootstrap();
      expect(globalThis.setTimeout).toHaveBeenCalledWith(expect.any(Function), 300_000);
      expect(unref).toHaveBeenCalledTimes(1);
    });

    it('does not start with cleanupInterval 0', async () => {
      vi.useFakeTimers({ now: T0 });
      const { service } = setup({ cleanupInterval: 0 });
      const runOnce = vi.spyOn(service, 'runOnce');
      service.onApplicationBootstrap();
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(3_600_000);
      expect(runOnce).not.toHaveBeenCalled();
      await service.onApplicationShutdown();
    });

    it('survives a store outage: logs a warning and tries again next interval', async () => {
      vi.useFakeTimers({ now: T0 });
      const { store, service } = setup({ cleanupInterval: 60 });
      const deleteEnded = vi
        .spyOn(store, 'deleteEnded')
        .mockRejectedValueOnce(new SessionStoreUnavailableError(new Error('connect ECONNREFUSED 127.0.0.1:5432')));
      await seed(store, { createdAt: -45 * DAY, expiresAt: 10 * DAY, revokedAt: -40 * DAY });

      service.onApplicationBootstrap();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/Session cleanup failed: Session store unavailable.*ECONNREFUSED/));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(deleteEnded).toHaveBeenCalledTimes(2);
      expect(log).toHaveBeenCalledWith(expect.stringMatching(/deleted 1 sessions/));
      await service.onApplicationShutdown();
    });

    it('on shutdown waits for the running batch, then stops without starting another', async () => {
      const { store, service } = setup({ cleanupBatchSize: 1, cleanupBatchPauseMs: 60_000 });
      const gate = deferred<number>();
      const deleteEnded = vi.spyOn(store, 'deleteEnded').mockImplementationOnce(() => gate.promise);
      const pass = service.runOnce();
      let stopped = false;
      const shutdown = service.onApplicationShutdown().then(() => (stopped = true));

      await new Promise((resolve) => setImmediate(resolve));
      expect(stopped).toBe(false);
      gate.resolve(1);
      await shutdown;
      // The full batch would call for another, but shutdown cut the pause short and ended the pass.
      await expect(pass).resolves.toEqual({ deleted: 1, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
      expect(deleteEnded).toHaveBeenCalledTimes(1);
    });

    it('after shutdown, runOnce deletes nothing and does not touch the lock', async () => {
      const { store, service, lock } = setup();
      await seed(store, { createdAt: -45 * DAY, expiresAt: 10 * DAY, revokedAt: -40 * DAY });
      const runExclusive = vi.spyOn(lock, 'runExclusive');
      await service.beforeApplicationShutdown();
      await service.onApplicationShutdown();
      await expect(service.runOnce()).resolves.toEqual({ deleted: 0, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
      expect(runExclusive).not.toHaveBeenCalled();
    });

    it('on shutdown cuts the pause between batches short', async () => {
      const { store, service } = setup({ cleanupBatchSize: 1, cleanupBatchPauseMs: 60_000 });
      for (let i = 0; i < 3; i++) await seed(store, { createdAt: -45 * DAY, expiresAt: 10 * DAY, revokedAt: -40 * DAY });
      const pass = service.runOnce();
      await new Promise((resolve) => setImmediate(resolve));
      const started = Date.now();
      await service.onApplicationShutdown();
      expect(Date.now() - started).toBeLessThan(1000);
      await expect(pass).resolves.toEqual({ deleted: 1, rotatedDeleted: 0, auditDeleted: 0, skipped: false });
    });
  });

  it('is wired by Nest: options, store, lock and clock are injected; shutdown stops the timer', async () => {
    vi.useFakeTimers({ now: T0 });
    const store = new MemorySessionStore();
    const id = await seed(store, { createdAt: -45 * DAY, expiresAt: 10 * DAY, revokedAt: -40 * DAY });
    const moduleRef = await Test.createTestingModule({
      providers: [
        { provide: RESOLVED_SESSION_OPTIONS, useValue: { cleanupInterval: 5, retention: RETENTION, idleTtl: IDLE_TTL, refreshTtl: REFRESH_TTL, accessTtl: ACCESS_TTL } },
        { provide: SessionStore, useValue: store },
        { provide: HousekeepingLock, useClass: MemoryHousekeepingLock },
        { provide: Clock, useValue: new FakeClock() },
        SessionCleanupService,
      ],
    }).compile();
    await moduleRef.init();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(await store.findById(id)).not.toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(await store.findById(id)).toBeNull();
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/deleted 1 sessions/));
    await moduleRef.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
