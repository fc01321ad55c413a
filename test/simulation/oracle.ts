import { RefreshTokenReuseError } from '../../src/session/errors/session.errors.js';
import { Cluster, Instance, SETTLE_MS } from './cluster.js';

/**
 * The clients and the invariant. Clients log in, validate, log out, revoke all and refresh on
 * any instance, without waiting for each other. The oracle notes, in one order of events (`seq`),
 * when each end was acknowledged (the service's promise resolved) and when each validation began,
 * and holds every instance to:
 *
 *   once an end is acknowledged, no validation that begins afterwards accepts the access token
 *   it ended — on any instance, including instances started later.
 *
 * An end is a logout or revocation (every access token of the session), a revocation of all of a
 * user's sessions, a refresh (the access token it replaced), or a refresh that detected reuse
 * (the session).
 */

/** An acceptance the invariant forbids. */
export interface Violation {
  /**
   * `settled`: the validation began `SETTLE_MS` or more after both the end's acknowledgement and
   * the last fault, and no fault came while it ran (the protocol had every chance to heal);
   * else `transient`.
   */
  kind: 'settled' | 'transient';
  /** The token, as the trace names it: `A<session>.<pair>`. */
  token: string;
  instance: string;
  /** Milliseconds into the run. */
  at: number;
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
  /** What must never happen whatever the faults (a token validated as another session): fails any property. */
  readonly errors: string[] = [];
  /** Validations answered (accepted or refused), to see that a schedule exercises something. */
  validations = 0;
  private readonly byToken = new Map<string, AccessToken>();
  private seq = 0;

  constructor(private readonly cluster: Cluster) {}

  login(slot: number, user: number): void {
    const instance = this.cluster.serving(slot);
    if (!instance) return;
    const userId = `u${user}`;
    this.call(instance, `login ${userId}`, instance.service.create({ userId, roles: ['user'] }), ({ session, tokens }) => {
      const label = `A${this.sessions.length}`;
      const record: Session = { label, id: session.id, userId, loginSeq: ++this.seq, pairs: [] };
      this.sessions.push(record);
      this.issue(record, tokens.accessToken, tokens.refreshToken);
      return `${label}.0`;
    });
  }

  validate(slot: number, pick: number): void {
    this.validateOn(this.cluster.serving(slot), this.tokens[pick % Math.max(1, this.tokens.length)]);
  }

  logout(slot: number, pick: number): void {
    const instance = this.cluster.serving(slot);
    const session = this.sessions[pick % Math.max(1, this.sessions.length)];
    if (!instance || !session) return;
    const began = this.now();
    this.call(instance, `logout ${session.label}`, instance.service.revoke(session.id, 'logout'), (ended) => {
      this.end(session, 'logout', began);
      return ended ? 'ended' : 'was not live';
    });
  }

  revokeAll(slot: number, user: number): void {
    const instance = this.cluster.serving(slot);
    if (!instance) return;
    const userId = `u${user}`;
    const beganSeq = ++this.seq;
    const began = this.now();
    this.call(instance, `revoke all of ${userId}`, instance.service.revokeAll(userId), (count) => {
      // Sessions whose login was acknowledged before the revocation began: it ended them.
      for (const session of this.sessions) {
        if (session.userId === userId && session.loginSeq < beganSeq) this.end(session, `revoke all of ${userId}`, began);
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
    const refreshing = instance.service.refresh(presented.refresh).catch((error: unknown) => {
      // Reuse detected: the service revoked the session (cache marked) before it threw.
      if (error instanceof RefreshTokenReuseError) this.end(session, `reuse detected by ${instance.name}`, began);
      throw error;
    });
    this.call(instance, `refresh ${replaced.label}`, refreshing, ({ tokens }) => {
      const next = this.issue(session, tokens.accessToken, tokens.refreshToken);
      if (next !== replaced) replaced.end ??= this.endNow(`refresh to ${next.label}`, began);
      return next.label;
    });
  }

  /** Every access token that has ended, for the final sweep. */
  ended(): AccessToken[] {
    return this.tokens.filter((token) => this.endOf(token) !== undefined);
  }

  validateOn(instance: Instance | undefined, token: AccessToken | undefined): Promise<void> {
    if (!instance || !token) return Promise.resolve();
    const beganSeq = ++this.seq;
    const began = this.now();
    const quietSince = this.cluster.quietSince();
    const checking = this.call(instance, `validate ${token.label}`, instance.service.validate(token.value), (auth) => {
      const end = this.endOf(token);
      if (end && end.seq < beganSeq) {
        const settled = quietSince !== null && this.cluster.quietSince() === quietSince && began - Math.max(quietSince, end.at) >= SETTLE_MS;
        const violation: Violation = {
          kind: settled ? 'settled' : 'transient',
          token: token.label,
          instance: instance.name,
          at: this.now(),
          ended: `${end.how} at ${(end.at / 1000).toFixed(3)}s`,
          endedAt: end.at,
          endBegan: end.began,
        };
        this.violations.push(violation);
        return `ACCEPTED — VIOLATION (${violation.kind}): ended by ${violation.ended}`;
      }
      if (auth.sessionId !== token.session.id) this.errors.push(`${instance.name} validated ${token.label} as session ${auth.sessionId}`);
      return 'accepted';
    }, false);
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

  private end(session: Session, how: string, began: number): void {
    session.end ??= this.endNow(how, began);
  }

  private endNow(how: string, began: number): End {
    return { seq: ++this.seq, at: this.now(), began, how };
  }

  /** The earlier of the token's own end and its session's. */
  private endOf(token: AccessToken): End | undefined {
    const ends = [token.end, token.session.end].filter((end): end is End => end !== undefined);
    return ends.sort((a, b) => a.seq - b.seq)[0];
  }

  /**
   * Runs a client call, tracing it; the outcome (or error) is written when it settles. Never
   * rejects. A call that may end sessions is counted on its instance while under way.
   */
  private call<T>(instance: Instance, what: string, call: Promise<T>, onResult: (result: T) => string, ends = true): Promise<void> {
    this.cluster.log(`${instance.name} ← ${what}`);
    if (ends) instance.endsInFlight += 1;
    return call
      .then(
        (result) => this.cluster.log(`${instance.name} → ${what}: ${onResult(result)}`),
        (error: unknown) => this.cluster.log(`${instance.name} → ${what}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`),
      )
      .finally(() => {
        if (ends) instance.endsInFlight -= 1;
      });
  }

  private now(): number {
    return this.cluster.now();
  }
}
