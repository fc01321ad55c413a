import type { Cluster, FaultSpan } from './cluster.js';

/**
 * What the protocol promises (README, "When things fail"), as a check on one acceptance.
 *
 *   Once an end of an access token is acknowledged to a client, no validation that begins
 *   afterwards accepts that token, on any instance — except within these bounds, which README
 *   states:
 *
 *   - the hop: another instance hears the invalidation one pub/sub hop after the revoking one
 *     answered ("a moment after"), when subscribers may read a message after the publisher has
 *     its answer (`late` delivery; else they have read it by then);
 *   - its own outage: an instance that lost Redis (its network, either connection, or Redis
 *     frozen) serves its in-process copies until it notices, within 1 s ("within 1 s by every
 *     other that lost Redis too");
 *   - an unmarked end: when, in the reconciliation interval before the acknowledgement, a fault
 *     may have kept one of the token's ends from being marked in Redis — Redis down or frozen,
 *     PostgreSQL's reply lost after it committed, or the connections of an instance that ran a
 *     call ending sessions of that user cut or reset, or that instance dead — every instance
 *     refuses the token within the interval ("if it dies first, the next reconciliation round
 *     marks it, and every instance refuses the token within SESSION_CACHE_RECONCILE_INTERVAL
 *     … and never accepts it again"), plus the duration of a round (`ROUND_MS`); counted from
 *     the acknowledgement, and again from each later fault that may cost a round (a cut, reset,
 *     death or shutdown of any instance starts one more interval) or stop every round
 *     (PostgreSQL down or losing replies, Redis down, frozen or out of memory: one more interval
 *     after it ends).
 *
 * Nothing else: a restore from a snapshot, a restart empty, a flush, Redis out of memory, a
 * dropped subscription, a new instance, clocks a few seconds apart — none of them may let an
 * acknowledged end be accepted.
 */

/** The channel's staleness rule: an instance trusts its in-process tier up to 1 s after its last heartbeat. */
export const STALE_MS = 1000;
/**
 * A round's own duration on top of the interval: the lease's phase (each instance asks every
 * interval / 4, after its previous run), the lease, the watermark, the query, the marks and the
 * invalidation — a few round trips of at most 20 ms each here.
 */
export const ROUND_MS = 500;
/** After a fault of its connection ends, an instance's marks may still fail this long: reconnection (≤ 2 s) and the breaker's probe (0.5 s). */
export const HEAL_MS = 3000;

/** Faults after which no round can mark anything until they end. */
const STOP_ROUNDS: ReadonlyArray<FaultSpan['kind']> = ['postgresDown', 'postgresLosesReplies', 'redisDown', 'redisFrozen', 'redisOom'];
/** Faults that may keep any instance's mark from Redis (whoever wrote the end). */
const LOSES_ANY_MARK: ReadonlyArray<FaultSpan['kind']> = ['redisDown', 'redisFrozen', 'postgresLosesReplies'];
/** Faults of one instance that may keep its marks from Redis: its connections cut or reset, its death. */
const LOSES_ITS_MARKS: ReadonlyArray<FaultSpan['kind']> = ['cut', 'reset', 'kill', 'shutdown'];
/** Faults of an instance's Redis path after which it may keep its in-process copies for up to `STALE_MS`. */
const LOSES_REDIS: ReadonlyArray<FaultSpan['kind']> = ['cut', 'redisFrozen'];

/** A client call that may end sessions of `userId` (`*`: of anyone), on `slot`, from when to when (`to`: Infinity while under way; its process's death). */
export interface EndingCall {
  id: number;
  kind: 'login' | 'logout' | 'admin' | 'owner' | 'revokeAll' | 'endIssuedBefore' | 'refresh';
  slot: number;
  userId: string;
  /** The session it ends or rotates, when it names one. */
  session?: string;
  what: string;
  from: number;
  to: number;
}

/** An acknowledged end, as the oracle saw it (ms into the run). */
export interface AckedEnd {
  at: number;
  /** When the call that answered it began. */
  began: number;
  /** The instance that answered it, and the call. */
  by: string;
  call: number;
}

/**
 * Which documented bound lets `instance` (in `slot`) accept, in a validation that began at
 * `began`, a token of `userId` whose first end was acknowledged as `end`; undefined when none
 * does: a violation of the promise.
 */
export function bound(cluster: Cluster, calls: readonly EndingCall[], end: AckedEnd, userId: string, instance: string, slot: number, began: number): string | undefined {
  const { latency, spans, intervalMs } = cluster;
  if (latency.late && instance !== end.by && began <= end.at + latency.messageMs) return 'the invalidation hop';
  const lostRedis = spans.find(
    (span) => LOSES_REDIS.includes(span.kind) && (span.slot === undefined || span.slot === slot) && span.from <= began && began < span.from + STALE_MS,
  );
  if (lostRedis) return `its own outage (${lostRedis.kind} at ${seconds(lostRedis.from)}), within ${STALE_MS} ms`;
  const near = hazards(spans, calls, end.at, userId, intervalMs);
  if (near.length === 0) return undefined;
  const deadline = unmarkedDeadline(spans, end.at, intervalMs, began);
  if (began > deadline) return undefined;
  return `an end near a fault (${[...new Set(near.map((span) => span.kind))].join(', ')}): refused by ${seconds(deadline)}`;
}

/**
 * The faults in the interval (and a round) before `at` that may have kept a mark of an end of
 * `userId`'s tokens from Redis: Redis down or frozen, PostgreSQL's reply lost — or a fault of the
 * connections, or the death, of an instance that ran a call ending sessions of that user at the
 * time (or up to `HEAL_MS` after: its breaker may still be open).
 */
export function hazards(spans: readonly FaultSpan[], calls: readonly EndingCall[], at: number, userId: string, intervalMs: number): FaultSpan[] {
  return spans.filter((span) => {
    if (span.from > at || span.to < at - intervalMs - ROUND_MS) return false;
    if (LOSES_ANY_MARK.includes(span.kind)) return true;
    if (!LOSES_ITS_MARKS.includes(span.kind)) return false;
    return calls.some(
      (call) => call.slot === span.slot && (call.userId === userId || call.userId === '*') && call.from <= Math.min(span.to + HEAL_MS, at) && call.to >= span.from,
    );
  });
}

/**
 * The latest moment an end acknowledged at `at` near a fault may still be accepted: one
 * interval and a round after it, pushed back by each fault that may cost a round (one more
 * interval from its start) or stop every round (one more interval from its end; faults still
 * on at `now` push it past `now`).
 */
export function unmarkedDeadline(spans: readonly FaultSpan[], at: number, intervalMs: number, now: number): number {
  let deadline = at + intervalMs + ROUND_MS;
  for (let moved = true; moved; ) {
    moved = false;
    for (const span of spans) {
      const stopsRounds = STOP_ROUNDS.includes(span.kind);
      if (span.from > deadline || span.to < at || (!stopsRounds && span.from <= at)) continue;
      const from = stopsRounds ? Math.min(span.to, now + 1) : span.from;
      const later = from + intervalMs + ROUND_MS;
      if (later > deadline) {
        deadline = later;
        moved = true;
      }
    }
  }
  return deadline;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}s`;
