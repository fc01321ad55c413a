import type { Protocol } from './cluster.js';
import type { FaultKind, Report, Schedule, ScheduleShape } from './schedule.js';
import { breaches } from './search.js';

/**
 * The simulation's explicit schedules and shapes of random ones, shared by the spec files:
 * the three bugs reconciliation fixed (phase 1), the bounds README documents, and the findings.
 */

export const NO_LATENCY = { commandMs: 0, messageMs: 0, queryMs: 0 };
export const OFF: Protocol = { reconcile: false };
export const withProtocol = (schedule: Schedule, protocol: Protocol): Schedule => ({ ...schedule, protocol });

/** Phase 1's faults. */
export const CLASSIC_FAULTS: FaultKind[] = ['split', 'reset', 'snapshotRestore', 'restartEmpty', 'freeze', 'postgres', 'kill', 'start'];
/** Every fault the model has. */
export const EVERY_FAULT: FaultKind[] = [...CLASSIC_FAULTS, 'connections', 'oom', 'flush', 'postgresLoss', 'shutdown', 'join'];

/** Up to 3 processes; schedules of 20 to 100 events. */
export const shape = (overrides: Partial<ScheduleShape>): ScheduleShape => ({
  slots: { min: 1, max: 3 },
  maxSlots: 3,
  faults: [],
  events: { min: 20, max: 100 },
  ...overrides,
});

/** The searches that found the three bugs in phase 1: each finds its bug with reconciliation off. */
export const SEARCHES = {
  snapshots: shape({ slots: { min: 1, max: 2 }, maxSlots: 2, faults: ['snapshotRestore'] }),
  oneInstance: shape({ slots: { min: 1, max: 1 }, maxSlots: 1, faults: ['split', 'kill', 'start'] }),
  twoInstances: shape({ slots: { min: 2, max: 2 }, maxSlots: 2, faults: ['split', 'kill'], faultySlots: [0] }),
  classic: shape({ slots: { min: 1, max: 2 }, maxSlots: 2, faults: CLASSIC_FAULTS }),
};

/** Bug 1: a Redis restored from a snapshot taken before a logout serves the logged-out session again. */
export const RESTORED_SNAPSHOT: Schedule = {
  seed: 1,
  slots: 2,
  latency: NO_LATENCY,
  events: [
    { do: 'login', slot: 0, user: 0 }, // A0
    { do: 'validate', slot: 1, pick: 0 }, // cached in Redis
    { fault: 'snapshot' },
    { do: 'logout', slot: 0, pick: 0 }, // marked revoked in Redis
    { wait: 11_000 }, // more than the 10 s a round looks back
    { fault: 'restartRedis', downMs: 200, from: 0 }, // the live entry is back
    { wait: 6000 },
    { do: 'validate', slot: 1, pick: 0 },
  ],
};

/** Bug 1 again, the logout 1 s before Redis dies, and no request while it is down. */
export const RESTORE_AFTER_QUIET_OUTAGE: Schedule = {
  seed: 9,
  slots: 2,
  latency: NO_LATENCY,
  events: [
    { do: 'login', slot: 0, user: 0 },
    { do: 'validate', slot: 1, pick: 0 },
    { fault: 'snapshot' },
    { do: 'logout', slot: 0, pick: 0 },
    { wait: 1000 },
    { fault: 'restartRedis', downMs: 1500, from: 0 },
    { wait: 6200 },
    { do: 'validate', slot: 1, pick: 0 },
  ],
};

/**
 * Bug 2: the only instance, cut from Redis, logs A out and rotates B; it is restarted after the
 * cut heals. Its marks died with it.
 */
export const RESTARTED_AFTER_SPLIT: Schedule = {
  seed: 2,
  slots: 1,
  latency: NO_LATENCY,
  events: [
    { do: 'login', slot: 0, user: 0 }, // A0
    { do: 'login', slot: 0, user: 1 }, // A1
    { do: 'validate', slot: 0, pick: 0 },
    { do: 'validate', slot: 0, pick: 1 }, // both cached in Redis
    { fault: 'split', slot: 0, mode: 'drop' },
    { do: 'logout', slot: 0, pick: 0 },
    { wait: 300 },
    { do: 'refresh', slot: 0, pick: 1 }, // A1.0 → A1.1
    { wait: 11_000 },
    { fault: 'kill', slot: 0 },
    { fault: 'heal', slot: 0 },
    { fault: 'start', slot: 0 },
    { wait: 6000 },
    { do: 'validate', slot: 0, pick: 0 }, // A0.0
    { do: 'validate', slot: 0, pick: 1 }, // A1.0
  ],
};

/** Bug 3: of two instances, the one cut from Redis revokes A and dies with the mark pending; the other never lost Redis. */
export const REVOKER_DIED: Schedule = {
  seed: 3,
  slots: 2,
  latency: NO_LATENCY,
  events: [
    { do: 'login', slot: 0, user: 0 }, // A0
    { do: 'validate', slot: 1, pick: 0 }, // cached in Redis (and in instance 1)
    { fault: 'split', slot: 0, mode: 'drop' },
    { do: 'logout', slot: 0, pick: 0 },
    { wait: 300 },
    { fault: 'kill', slot: 0 },
    { wait: 11_000 },
    { do: 'validate', slot: 1, pick: 0 },
  ],
};

/**
 * The bound of bug 3's fix, measured: the revoker, cut off, logs A out and dies; the other
 * instance, which holds A in process and never lost Redis, is asked 20 times an interval.
 */
export const REVOKER_DIED_POLLED = (intervalMs: number): Schedule => ({
  seed: 3,
  slots: 2,
  latency: { commandMs: 2, messageMs: 5, queryMs: 3 },
  protocol: { reconcileIntervalMs: intervalMs },
  events: [
    { do: 'login', slot: 0, user: 0 },
    { wait: 100 },
    { do: 'validate', slot: 1, pick: 0 },
    { wait: 700 },
    { do: 'validate', slot: 1, pick: 0 }, // in instance 1's in-process tier
    { wait: 100 },
    { fault: 'split', slot: 0, mode: 'drop' },
    { do: 'logout', slot: 0, pick: 0 },
    { wait: 300 },
    { fault: 'kill', slot: 0 },
    ...Array.from({ length: 40 }, () => [{ wait: intervalMs / 20 }, { do: 'validate' as const, slot: 1, pick: 0 }]).flat(),
  ],
});

/** A revocation while Redis is out of memory: its mark is refused, every instance is told so and refuses the token at once. */
export const OUT_OF_MEMORY: Schedule = {
  seed: 10,
  slots: 3,
  latency: { commandMs: 2, messageMs: 5, queryMs: 3 },
  events: [
    { do: 'login', slot: 0, user: 0 },
    { wait: 100 },
    { do: 'validate', slot: 1, pick: 0 },
    { do: 'validate', slot: 2, pick: 0 },
    { wait: 700 },
    { do: 'validate', slot: 1, pick: 0 }, // in instance 1's in-process tier
    { do: 'validate', slot: 2, pick: 0 }, // and instance 2's
    { wait: 100 },
    { fault: 'oom' },
    { do: 'logout', slot: 0, pick: 0 },
    { wait: 100 },
    { do: 'validate', slot: 1, pick: 0 },
    { do: 'validate', slot: 2, pick: 0 },
    { fault: 'join', slot: 3 }, // a new instance cannot catch up (its marks are refused): it reads PostgreSQL
    { wait: 6000 },
    { do: 'validate', slot: 1, pick: 0 },
    { do: 'validate', slot: 2, pick: 0 },
    { do: 'validate', slot: 3, pick: 0 },
    { fault: 'memoryFreed' },
    { wait: 2000 },
    { do: 'validate', slot: 1, pick: 0 },
  ],
};

/** Phase 1's window, closed on main (944294d): a second logout concurrent with the first marks the cache too before it answers. */
export const CONCURRENT_LOGOUTS: Schedule = {
  seed: 6,
  slots: 2,
  latency: { commandMs: 20, messageMs: 0, queryMs: 3, exact: true },
  events: [
    { do: 'login', slot: 0, user: 0 },
    { wait: 100 },
    { do: 'validate', slot: 1, pick: 0 },
    { wait: 500 },
    { do: 'validate', slot: 1, pick: 0 },
    { wait: 100 },
    { do: 'logout', slot: 0, pick: 0 },
    { do: 'logout', slot: 1, pick: 0 },
    { wait: 10 },
    { do: 'validate', slot: 1, pick: 0 },
  ],
};

/** Phase 1's window, closed: Redis dies; the subscriber connection closes with it, so no instance serves its in-process copy meanwhile. */
export const UNNOTICED_OUTAGE: Schedule = {
  seed: 4,
  slots: 2,
  latency: NO_LATENCY,
  events: [
    { do: 'login', slot: 0, user: 0 },
    { do: 'validate', slot: 1, pick: 0 },
    { do: 'validate', slot: 1, pick: 0 },
    { fault: 'restartRedis', downMs: 4000, from: 'empty' },
    { do: 'logout', slot: 0, pick: 0 },
    { wait: 300 },
    { do: 'validate', slot: 1, pick: 0 },
  ],
};

/** A one-host split: the other instance serves what the cut-off one logged out until a round marks it (the documented bound). */
export const ONE_HOST_SPLIT: Schedule = {
  seed: 5,
  slots: 2,
  latency: NO_LATENCY,
  events: [
    { do: 'login', slot: 0, user: 0 },
    { do: 'validate', slot: 1, pick: 0 },
    { do: 'validate', slot: 1, pick: 0 },
    { fault: 'split', slot: 0, mode: 'drop' },
    { do: 'logout', slot: 0, pick: 0 },
    ...Array.from({ length: 12 }, () => [{ wait: 500 }, { do: 'validate' as const, slot: 1, pick: 0 }]).flat(),
    { fault: 'heal', slot: 0 },
    { wait: 3000 },
    { do: 'validate', slot: 1, pick: 0 },
  ],
};

/**
 * Beyond README's assumption (clocks within a few seconds): the revoker's clock runs 20 s slow; cut
 * off, it logs A out and dies. Its end is stamped before the watermark the rounds have passed,
 * so no round marks it: the other instance accepts A until the entry's TTL, as README says. (A
 * round reads 10 s back from where the last one queried, so between 10 and 15 s slow it depends
 * on when the last round ran.)
 */
export const SLOW_CLOCK_REVOKER = (skewMs: number): Schedule => ({
  seed: 11,
  slots: 2,
  latency: NO_LATENCY,
  // The revoker in slot 1: the other instance, started first, holds the lease (a slow instance
  // that runs the rounds keeps the watermark as far behind as its clock, which marks more).
  skewsMs: [0, skewMs],
  events: [
    { do: 'login', slot: 0, user: 0 },
    { do: 'validate', slot: 0, pick: 0 },
    { wait: 20_000 }, // rounds have moved the watermark along
    { fault: 'split', slot: 1, mode: 'drop' },
    { do: 'logout', slot: 1, pick: 0 },
    { wait: 300 },
    { fault: 'kill', slot: 1 },
    { wait: 30_000 },
    { do: 'validate', slot: 0, pick: 0 },
  ],
});

// --- findings (reconciliation on): each a minimal schedule that breaks the promise today ---

/**
 * Finding 1a: a logout acknowledged while a refresh of the same session, under way on the same
 * instance, has rotated the token in PostgreSQL but not yet marked the access token it replaced:
 * `revoke` marks the session's current access token only (session.service.ts `forget`), so the
 * replaced one is accepted after the logout's answer (random latencies: this seed has the
 * refresh's PostgreSQL reply arrive 7 ms after the logout's).
 */
export const LOGOUT_DURING_ROTATION: Schedule = {
  seed: 20,
  slots: 1,
  latency: { commandMs: 0, messageMs: 0, queryMs: 20 },
  events: [
    { do: 'login', slot: 0, user: 0 },
    { wait: 100 },
    { do: 'validate', slot: 0, pick: 0 }, // filled in Redis
    { wait: 1000 },
    { do: 'refresh', slot: 0, pick: 0 },
    { do: 'logout', slot: 0, pick: 0 },
    { wait: 1 },
    { do: 'validate', slot: 0, pick: 0 }, // A0.0, read from Redis: still live there
  ],
};

/**
 * Finding 1b: a refresh retried within the grace window (two tabs) answers the pair of the
 * rotation it repeats before that rotation, under way on another instance, has marked the access
 * token it replaced (session.service.ts `rotate`, the grace path marks nothing): instance 1
 * serves its in-process copy of A0.0 after it answered A0.1.
 */
export const GRACE_RETRY_DURING_ROTATION: Schedule = {
  seed: 6,
  slots: 2,
  latency: { commandMs: 20, messageMs: 0, queryMs: 3, exact: true },
  events: [
    { do: 'login', slot: 0, user: 0 },
    { wait: 100 },
    { do: 'validate', slot: 1, pick: 0 },
    { wait: 500 },
    { do: 'validate', slot: 1, pick: 0 }, // in instance 1's in-process tier
    { wait: 100 },
    { do: 'refresh', slot: 0, pick: 0 },
    { wait: 1 },
    { do: 'refresh', slot: 1, pick: 0 }, // the same refresh token: a grace retry
    { wait: 15 },
    { do: 'validate', slot: 1, pick: 0 },
  ],
};

/**
 * Finding 1c: "log out everywhere" acknowledged while a logout of one of the sessions, under way
 * on another instance, has ended it in PostgreSQL but not yet marked it: `revokeAll` finds
 * nothing live and answers without marking (unlike `revoke`, which marks a session it finds
 * ended: `markAlreadyEnded`).
 */
export const REVOKE_ALL_DURING_LOGOUT: Schedule = {
  seed: 6,
  slots: 2,
  latency: { commandMs: 20, messageMs: 0, queryMs: 3, exact: true },
  events: [
    { do: 'login', slot: 0, user: 0 },
    { wait: 100 },
    { do: 'validate', slot: 1, pick: 0 },
    { wait: 500 },
    { do: 'validate', slot: 1, pick: 0 }, // in instance 1's in-process tier
    { wait: 100 },
    { do: 'logout', slot: 0, pick: 0 },
    { wait: 1 },
    { do: 'revokeAll', slot: 1, user: 0 }, // finds A0 ended: "0 ended", at once
    { wait: 10 },
    { do: 'validate', slot: 1, pick: 0 },
  ],
};

/**
 * Finding 4: with late delivery (the process reads its subscriber socket after the reply on its
 * command socket), the revoking instance itself accepts the token after it answered: a
 * validation under way read the session from Redis before the tombstone landed and, finishing
 * after `markRevoked` had written its in-process mark but before any invalidation arrived,
 * `keep()` wrote the session over that mark (shared-session.cache.ts `get`: only heard
 * invalidations and faults guard the write); its own invalidation drops it one hop later.
 */
export const OWN_INVALIDATION_LATE: Schedule = {
  seed: 12,
  slots: 1,
  latency: { commandMs: 20, messageMs: 40, queryMs: 3, exact: true, late: true },
  events: [
    { do: 'login', slot: 0, user: 0 },
    { wait: 100 },
    { do: 'validate', slot: 0, pick: 0 }, // filled in Redis
    { wait: 500 },
    { do: 'validate', slot: 0, pick: 0 }, // reads Redis before the tombstone lands, keeps the session after the mark
    { do: 'logout', slot: 0, pick: 0 }, // answered at +86 ms; its own invalidation arrives at +106 ms
    { wait: 90 },
    { do: 'validate', slot: 0, pick: 0 },
  ],
};

/**
 * Finding 5: a validation that begins after the logout's answer shares the store read of one
 * that began before (`SessionService.loadOnce`: concurrent misses of a hash share one load, and
 * the load lasts until its fill is written): instance 0 read the session live, the logout
 * committed, instance 0's command connection is reset under the fill (which now waits out its
 * 100 ms timeout), the logout is answered, and a new validation on instance 0 — out of sync, so
 * straight to the store — joins that load and accepts.
 */
export const SHARED_READ_AFTER_END: Schedule = {
  seed: 13,
  slots: 2,
  latency: { commandMs: 20, messageMs: 0, queryMs: 3, exact: true },
  events: [
    { do: 'login', slot: 1, user: 0 },
    { wait: 100 },
    { do: 'validate', slot: 0, pick: 0 }, // a miss: reads the store at +43 ms (live), fills at +46 ms
    { wait: 41 },
    { do: 'logout', slot: 1, pick: 0 }, // commits at +44 ms, answered at +127 ms
    { wait: 9 },
    { fault: 'reset', slot: 0, conn: 'command' }, // the fill's SET is lost: the load lasts until +146 ms
    { wait: 80 },
    { do: 'validate', slot: 0, pick: 0 }, // begins at +130 ms, joins the load
  ],
};

/**
 * Finding 6: FLUSHALL removes the logout's mark, and a fill that read the session before the
 * logout lands after the flush (instance 1's network held it a moment), in the epoch every
 * instance still trusts: the revoking instance itself reads it and accepts the logged-out token
 * until its watch notices the lost watermark (within a second).
 */
export const FLUSH_AFTER_THE_MARK: Schedule = {
  seed: 14,
  slots: 2,
  latency: { commandMs: 20, messageMs: 0, queryMs: 3, exact: true },
  events: [
    { do: 'login', slot: 0, user: 0 },
    { wait: 100 },
    { do: 'validate', slot: 1, pick: 0 }, // a miss: reads the store at +43 ms (live), fills at +46 ms
    { wait: 41 },
    { do: 'logout', slot: 0, pick: 0 }, // commits at +44 ms, marked at +67 ms
    { wait: 9 },
    { fault: 'split', slot: 1, mode: 'hold' }, // the fill waits in the network
    { wait: 100 },
    { fault: 'flush' }, // the mark (and the watermark) gone
    { wait: 50 },
    { fault: 'heal', slot: 1 }, // the fill lands: live, in the old epoch
    { wait: 20 },
    { do: 'validate', slot: 0, pick: 0 },
    { wait: 300 },
    { do: 'validate', slot: 0, pick: 0 }, // the watch has noticed: refused
  ],
};

/**
 * Finding 2: Redis out of memory refuses the logout's mark; the revoker tells every instance so
 * (`unmarked`) — but instance 1's subscriber connection was reset at that moment, so it never
 * hears it. Its channel was unhealthy for a few hundred ms only, and nothing asked `trusted()`
 * meanwhile (a request, or a round every interval / 4), so it never fell out of sync: it keeps
 * reading Redis, where the session is live, for as long as Redis is out of memory.
 */
export const OOM_DROPPED_SUBSCRIPTION: Schedule = {
  seed: 7,
  slots: 2,
  latency: NO_LATENCY,
  events: [
    { do: 'login', slot: 0, user: 0 },
    { do: 'validate', slot: 1, pick: 0 }, // filled in Redis
    { fault: 'oom' },
    { fault: 'reset', slot: 1, conn: 'subscriber' },
    { do: 'logout', slot: 0, pick: 0 }, // mark refused; "unmarked" published, lost to instance 1
    { wait: 1000 },
    { do: 'validate', slot: 1, pick: 0 },
    { wait: 3000 },
    { do: 'validate', slot: 1, pick: 0 },
  ],
};

/**
 * Finding 3: a fill held in the network (a partition where TCP retransmits) for longer than a
 * revocation mark lasts (300 s, and the rounds write it again for about 12 s after the end) lands
 * once the mark has expired: `set` checks how old its read is when it sends (`FILL_WINDOW_MS`),
 * not when Redis runs it. The logged-out session is live in Redis, in the current epoch, on
 * every instance, for the fill's TTL (up to 300 s).
 */
export const FILL_HELD_PAST_THE_MARK: Schedule = {
  seed: 8,
  slots: 2,
  latency: { commandMs: 0, messageMs: 0, queryMs: 20, exact: true },
  events: [
    { do: 'login', slot: 0, user: 0 },
    { wait: 100 },
    { do: 'validate', slot: 1, pick: 0 }, // a miss: PostgreSQL read, then the fill
    { wait: 30 },
    { fault: 'split', slot: 1, mode: 'hold' }, // the fill's SET held in the network
    { wait: 20 },
    { do: 'logout', slot: 0, pick: 0 },
    { wait: 320_000 },
    { fault: 'heal', slot: 1 }, // the held SET runs: the mark has expired
    { wait: 3000 },
    { do: 'validate', slot: 0, pick: 0 },
    { wait: 60_000 },
    { do: 'validate', slot: 0, pick: 0 },
  ],
};

/** How many validations of `token` on `instance` were refused (so an explicit schedule did ask). */
export const refused = (report: Report, instance: string, token: string) =>
  report.trace.filter((line) => line.includes(`${instance} → validate ${token}: InvalidTokenError`)).length;
export const accepted = (report: Report) => report.violations.map((v) => `${v.bound ? 'bounded' : 'BREACH'} ${v.instance} ${v.token}`);
export const unbounded = (report: Report) => breaches(report, 'bounded').map((v) => `${v.instance} ${v.token}`);

