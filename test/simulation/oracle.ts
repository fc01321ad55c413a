import { isLive, liveWindow } from '../../src/session/ports/session-record.js';
import { RefreshTokenReuseError, SessionNotFoundError } from '../../src/session/errors/session.errors.js';
import { hashToken } from '../../src/session/tokens.js';
import { Cluster, Instance, OPTIONS, SETTLE_MS } from './cluster.js';
import { bound, EndingCall, ROUND_MS } from './invariant.js';

/**
 * The clients and the invariant. Clients log in, validate, log out, revoke (as the owner or an
 * admin), revoke all, end every session issued before now, and refresh, on any instance, without
 * waiting for each other. The oracle notes, in one order of events (`seq`), when each end was
 * acknowledged (the service's promise settled) and when each validation began, and holds every
 * instance to:
 *
 *   once an end is acknowledged, no validation that begins afterwards accepts the access token
 *   it ended — on any instance, including instances started later — except within the bounds
 *   README documents (`invariant.ts`).
 *
 * An end is a logout or revocation (every access token of the session; also when the call found
 * it ended already), a revocation of all of a user's sessions, an end of every session issued
 * before a moment, a login that evicted sessions beyond the per-user limit, a refresh (the
 * access token it replaced), or a refresh that detected reuse (the session).
 *
 * And, once every fault has ended and the cluster settled: every access token the store holds
 * live is accepted by every instance (a live session is never refused for good).
 */

/** An acceptance the invariant forbids (`bound` unset), or one a documented bound allows. */
export interface Violation {
  /**
   * `settled`: the validation began `SETTLE_MS` or more after both the end's acknowledgement and
   * the last fault, and no fault came while it ran (the protocol had every chance to heal);
   * else `transient`.
   */
  kind: 'settled' | 'transient';
  /** The documented bound that allows it (README, "When things fail"); unset: none does. */
  bound?: string;
  /** The token, as the trace names it: `A<session>.<pair>`. */
  token: string;
  instance: string;
  /** Milliseconds into the run: when the validation answered, and when it began. */
  at: number;
  began: number;
  /** What ended it, and when. */
  ended: string;
  /** When its end was acknowledged, and when the call that ended it began (ms into the run). */
  endedAt: number;
  endBegan: number;
}

interface Session {
  label: string;
  id: string;
  userId: string;
  /** As the store stamped it (its instance's clock). */
  createdAt: number;
  /** When its login was acknowledged. */
  loginSeq: number;
  /** Access and refresh tokens, one pair per rotation, in order. */
  pairs: Array<{ access: string; refresh: string }>;
  end?: End;
}

interface End {
  seq: number;
  /** When it was acknowledged, and when the call began (ms into the run). */
  at: number;
  began: number;
  how: string;
  /** The instance that answered, and the call. */
  by: string;
  call: number;
}

interface AccessToken {
  label: string;
  value: string;
  session: Session;
  /** Its own end: the rotation that replaced it. */
  end?: End;
}

export class Oracle {
  readonly sessions: Session[] = [];
  readonly tokens: AccessToken[] = [];
  readonly violations: Violation[] = [];
  /** What must never happen whatever the faults (a token validated as another session, a live one refused once settled): fails any property. */
  readonly errors: string[] = [];
  /** Validations answered (accepted or refused), to see that a schedule exercises something. */
  validations = 0;
  /** Validations answered: where, of what, when they began and answered, whether they accepted. */
  private readonly answered: Array<{ instance: string; token: string; began: number; beganSeq: number; at: number; accepted: boolean }> = [];
  /** Every call that may end sessions, for the invariant's bounds. */
  readonly calls: Array<EndingCall & { instance: Instance }> = [];
  private readonly byToken = new Map<string, AccessToken>();
  private seq = 0;

  /**
   * @param probe every acknowledged end is checked on every serving instance at once, 10 ms and
   *   60 ms later, and just past its bound (an interval and a round): where windows are
   */
  constructor(
    private readonly cluster: Cluster,
    private readonly probe = false,
  ) {}

  login(slot: number, user: number): void {
    const instance = this.cluster.serving(slot);
    if (!instance) return;
    const userId = `u${user}`;
    const began = this.now();
    const id = this.calls.length;
    this.call(instance, id, `login ${userId}`, { userId, kind: 'login' }, instance.service.create({ userId, roles: ['user'] }), ({ session, tokens }) => {
      const label = `A${this.sessions.length}`;
      // Sessions beyond the limit ended with this login: acknowledged now.
      const evicted = this.endNow(`eviction by the login of ${label}`, began, instance, id);
      void this.endEvicted(userId, evicted);
      const record: Session = { label, id: session.id, userId, createdAt: session.createdAt.getTime(), loginSeq: ++this.seq, pairs: [] };
      this.sessions.push(record);
      this.issue(record, tokens.accessToken, tokens.refreshToken);
      return `${label}.0`;
    });
  }

  validate(slot: number, pick: number): void {
    this.validateOn(this.cluster.serving(slot), this.tokens[pick % Math.max(1, this.tokens.length)]);
  }

  /** Validates one of the tokens whose end was acknowledged most recently (`pick` 0: the latest): where windows are. */
  validateEnded(slot: number, pick: number): void {
    const ended = this.ended().sort((a, b) => this.endOf(b)!.seq - this.endOf(a)!.seq);
    this.validateOn(this.cluster.serving(slot), ended[pick % Math.max(1, ended.length)]);
  }

  logout(slot: number, pick: number): void {
    const instance = this.cluster.serving(slot);
    const session = this.sessions[pick % Math.max(1, this.sessions.length)];
    if (!instance || !session) return;
    const began = this.now();
    const id = this.calls.length;
    this.call(
      instance,
      id,
      `logout ${session.label}`,
      { userId: session.userId, kind: 'logout' },
      instance.service.revoke(session.id, 'logout'),
      (ended) => {
        this.end(session, 'logout', began, instance, id);
        return ended ? 'ended' : 'was not live';
      },
      session,
    );
  }

  /** An admin's revocation (`revoke` with an actor), or the owner's (`revokeOwn`: not found when it was not live). */
  revoke(slot: number, pick: number, as: 'admin' | 'owner'): void {
    const instance = this.cluster.serving(slot);
    const session = this.sessions[pick % Math.max(1, this.sessions.length)];
    if (!instance || !session) return;
    const began = this.now();
    const id = this.calls.length;
    const how = `revocation by ${as === 'admin' ? 'an admin' : 'its owner'}`;
    if (as === 'admin') {
      this.call(
        instance,
        id,
        `admin revokes ${session.label}`,
        { userId: session.userId, kind: 'admin' },
        instance.service.revoke(session.id, 'revoked', 'admin'),
        (ended) => {
          this.end(session, how, began, instance, id);
          return ended ? 'ended' : 'was not live';
        },
        session,
      );
      return;
    }
    const revoking = instance.service.revokeOwn(session.userId, session.id).catch((error: unknown) => {
      // Not a live session of the user: ended already (and marked again before it answered).
      if (error instanceof SessionNotFoundError) this.end(session, how, began, instance, id);
      throw error;
    });
    this.call(
      instance,
      id,
      `${session.userId} revokes ${session.label}`,
      { userId: session.userId, kind: 'owner' },
      revoking,
      () => {
        this.end(session, how, began, instance, id);
        return 'ended';
      },
      session,
    );
  }

  revokeAll(slot: number, user: number): void {
    const instance = this.cluster.serving(slot);
    if (!instance) return;
    const userId = `u${user}`;
    const beganSeq = ++this.seq;
    const began = this.now();
    const id = this.calls.length;
    this.call(instance, id, `revoke all of ${userId}`, { userId, kind: 'revokeAll' }, instance.service.revokeAll(userId), (count) => {
      // Sessions whose login was acknowledged before the revocation began: it ended them.
      for (const session of this.sessions) {
        if (session.userId === userId && session.loginSeq < beganSeq) this.end(session, `revoke all of ${userId}`, began, instance, id);
      }
      return `${count} ended`;
    });
  }

  /** The operators' step after a restore of PostgreSQL: end every session issued before now (the instance's clock). */
  endIssuedBefore(slot: number): void {
    const instance = this.cluster.serving(slot);
    if (!instance) return;
    const before = instance.clock.now();
    const beganSeq = ++this.seq;
    const began = this.now();
    const id = this.calls.length;
    this.call(instance, id, `end sessions issued before ${this.runTime(before)}`, { userId: '*', kind: 'endIssuedBefore' }, instance.service.endSessionsIssuedBefore(new Date(before)), (count) => {
      // Sessions issued before the moment (as their instance's clock stamped them) whose login was
      // acknowledged before the call began: it ended them.
      for (const session of this.sessions) {
        if (session.createdAt < before && session.loginSeq < beganSeq) this.end(session, 'end of sessions issued before', began, instance, id);
      }
      return `${count} ended`;
    });
  }

  refresh(slot: number, pick: number): void {
    const instance = this.cluster.serving(slot);
    const session = this.sessions[pick % Math.max(1, this.sessions.length)];
    if (!instance || !session) return;
    const presented = session.pairs[session.pairs.length - 1];
    const replaced = this.byToken.get(presented.access)!;
    const began = this.now();
    const id = this.calls.length;
    const refreshing = instance.service.refresh(presented.refresh).catch((error: unknown) => {
      // Reuse detected: the service revoked the session (cache marked) before it threw.
      if (error instanceof RefreshTokenReuseError) this.end(session, `reuse detected by ${instance.name}`, began, instance, id);
      throw error;
    });
    this.call(
      instance,
      id,
      `refresh ${replaced.label}`,
      { userId: session.userId, kind: 'refresh' },
      refreshing,
      ({ tokens }) => {
        const next = this.issue(session, tokens.accessToken, tokens.refreshToken);
        if (next !== replaced && !replaced.end) {
          replaced.end = this.endNow(`refresh to ${next.label}`, began, instance, id);
          this.probeEnd([replaced]);
        }
        return next.label;
      },
      session,
    );
  }

  /** Every access token that has ended, for the final sweep. */
  ended(): AccessToken[] {
    return this.tokens.filter((token) => this.endOf(token) !== undefined);
  }

  /**
   * The tokens the store holds live — the session live, the token its current one — and not
   * about to expire (clocks differ by seconds), for the final sweep.
   */
  async live(): Promise<AccessToken[]> {
    const now = Date.now();
    const window = liveWindow(new Date(now), OPTIONS.idleTtl);
    const live: AccessToken[] = [];
    for (const token of this.tokens) {
      const hash = hashToken(token.value);
      const record = await this.cluster.postgres.store.findByAccessHash(hash);
      if (record && record.accessHash === hash && isLive(record, window) && record.accessExpiresAt.getTime() > now + 30_000) live.push(token);
    }
    return live;
  }

  /** Validates `token` on `instance`; with `mustAccept`, a refusal is an error (a live token, once settled). */
  validateOn(instance: Instance | undefined, token: AccessToken | undefined, mustAccept = false): Promise<void> {
    if (!instance || !token) return Promise.resolve();
    const beganSeq = ++this.seq;
    const began = this.now();
    const quietSince = this.cluster.quietSince();
    const validating = instance.service.validate(token.value).then(
      (auth) => {
        this.answered.push({ instance: instance.name, token: token.label, began, beganSeq, at: this.now(), accepted: true });
        return auth;
      },
      (error: unknown) => {
        this.answered.push({ instance: instance.name, token: token.label, began, beganSeq, at: this.now(), accepted: false });
        if (mustAccept) this.errors.push(`${instance.name} refused ${token.label}, live in the store, once settled: ${String(error)}`);
        throw error;
      },
    );
    const checking = this.call(
      instance,
      -1,
      `validate ${token.label}`,
      undefined,
      validating,
      (auth) => {
        const end = this.endOf(token);
        if (end && end.seq < beganSeq) {
          const settled = quietSince !== null && this.cluster.quietSince() === quietSince && began - Math.max(quietSince, end.at) >= SETTLE_MS;
          const calls = this.endingCalls();
          const allowed = bound(this.cluster, calls, end, token.session.userId, instance.name, instance.slot, began);
          const violation: Violation = {
            kind: settled ? 'settled' : 'transient',
            bound: allowed,
                        token: token.label,
            instance: instance.name,
            at: this.now(),
            began,
            ended: `${end.how} at ${(end.at / 1000).toFixed(3)}s on ${end.by}`,
            endedAt: end.at,
            endBegan: end.began,
          };
          this.violations.push(violation);
          const verdict = violation.bound ? `within a documented bound: ${violation.bound}` : 'VIOLATION';
          return `ACCEPTED — ${verdict} (${violation.kind}; ended by ${violation.ended})`;
        }
        if (auth.sessionId !== token.session.id) this.errors.push(`${instance.name} validated ${token.label} as session ${auth.sessionId}`);
        return 'accepted';
      },
    );
    return checking.finally(() => (this.validations += 1));
  }

  private issue(session: Session, access: string, refresh: string): AccessToken {
    const known = this.byToken.get(access);
    if (known) return known; // a grace retry of a refresh: the same pair again
    session.pairs.push({ access, refresh });
    const token: AccessToken = { label: `${session.label}.${session.pairs.length - 1}`, value: access, session };
    this.tokens.push(token);
    this.byToken.set(access, token);
    return token;
  }

  /** The store says which of the user's sessions a login evicted; their end is the login's acknowledgement. */
  private async endEvicted(userId: string, end: End): Promise<void> {
    for (const session of this.sessions) {
      if (session.userId !== userId || session.end) continue;
      const record = await this.cluster.postgres.store.findById(session.id);
      if (record?.revokedReason === 'evicted') session.end ??= end;
    }
  }

  private end(session: Session, how: string, began: number, instance: Instance, call: number): void {
    if (session.end) return;
    session.end = this.endNow(how, began, instance, call);
    this.probeEnd(session.pairs.slice(-2).map((pair) => this.byToken.get(pair.access)!));
  }

  /** With `probe`: validates these just-ended tokens on every serving instance at once, 10 ms and 60 ms later, and past the bound. */
  private probeEnd(tokens: AccessToken[]): void {
    if (!this.probe) return;
    for (const delay of [0, 10, 60, this.cluster.intervalMs + ROUND_MS + 100]) {
      this.cluster.scheduler.run(delay, () => {
        for (let slot = 0; slot < this.cluster.instances.length; slot++) {
          for (const token of tokens) void this.validateOn(this.cluster.serving(slot), token);
        }
      });
    }
  }

  private endNow(how: string, began: number, instance: Instance, call: number): End {
    return { seq: ++this.seq, at: this.now(), began, how, by: instance.name, call };
  }

  /** The calls that may end sessions, a dead process's ending at its death. */
  private endingCalls(): EndingCall[] {
    return this.calls.map((call) => ({ ...call, to: Math.min(call.to, call.instance.diedAt - (Date.now() - this.now())) }));
  }

  /** The earlier of the token's own end and its session's. */
  private endOf(token: AccessToken): End | undefined {
    const ends = [token.end, token.session.end].filter((end): end is End => end !== undefined);
    return ends.sort((a, b) => a.seq - b.seq)[0];
  }

  /**
   * Runs a client call, tracing it; the outcome (or error) is written when it settles. Never
   * rejects. Counted on its instance while under way (a graceful shutdown waits for it); a call
   * that may end sessions of `endsFor` (a user, or `*`) is recorded, as call `id`, with when it ran.
   */
  private call<T>(
    instance: Instance,
    id: number,
    what: string,
    endsFor: { userId: string; kind: EndingCall['kind'] } | undefined,
    call: Promise<T>,
    onResult: (result: T) => string,
    session?: Session,
  ): Promise<void> {
    this.cluster.log(`${instance.name} ← ${what}`);
    instance.callsInFlight += 1;
    const record =
      endsFor === undefined
        ? undefined
        : { id, slot: instance.slot, ...endsFor, session: session?.label, what: `${what} on ${instance.name}`, from: this.now(), to: Infinity, instance };
    if (record) {
      this.calls.push(record);
      instance.endsInFlight += 1;
    }
    return call
      .then(
        (result) => this.cluster.log(`${instance.name} → ${what}: ${onResult(result)}`),
        (error: unknown) => this.cluster.log(`${instance.name} → ${what}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`),
      )
      .finally(() => {
        instance.callsInFlight -= 1;
        if (record) {
          record.to = this.now();
          instance.endsInFlight -= 1;
        }
      });
  }

  private now(): number {
    return this.cluster.now();
  }

  /** An epoch time as ms into the run, for the trace. */
  private runTime(epochMs: number): string {
    return `${((epochMs - (Date.now() - this.now())) / 1000).toFixed(3)}s`;
  }
}
