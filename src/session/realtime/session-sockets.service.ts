import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { randomUUID } from 'node:crypto';
import { InvalidTokenError } from '../errors/session.errors.js';
import { attachRequestSession } from '../http/request-session.js';
import { SessionMetrics } from '../metrics/session-metrics.js';
import { SessionEnd, SocketEntry, SocketLocation, SocketPresence } from '../ports/socket-presence.js';
import { ThrottledWarning } from '../runtime/throttled-warning.js';
import type { ClientContext } from '../session-binding.js';
import { SessionEventPublisher } from '../session-event.publisher.js';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants.js';
import type { SessionEvent } from '../session.events.js';
import type { ResolvedSessionOptions } from '../session.options.js';
import { SessionService } from '../session.service.js';
import type { AuthenticatedSession } from '../session.types.js';
import { handshakeToken, type SocketHandshake } from './socket-handshake.js';
import { type SessionSocketHandle, socketHandle } from './socket-handle.js';

/** A socket this instance holds, and what it was authenticated with. */
interface Tracked {
  client: object;
  handle: SessionSocketHandle;
  sessionId: string;
  userId: string;
  /** The handshake's access token: messages are re-checked with it while it is valid. */
  token: string;
  context: ClientContext;
  /** Closed, or being closed: forgotten by presence once. */
  done: boolean;
}

/** What a handshake proved. */
export interface SocketCredentials {
  session: AuthenticatedSession;
  token: string;
  context: ClientContext;
}

/** Sessions remembered as ended, so a socket authenticated just before the end is not adopted after it. */
const RECENT_ENDS = 10_000;
const RECENT_END_MS = 60_000;
/** A session whose handshake token expired or was rotated away is checked in the store at most this often. */
const LIVE_CHECK_MS = 5_000;
/** Longest a timer may wait (Node's limit); a session ending later is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The sockets of sessions: authenticates handshakes, keeps which socket belongs to which session
 * (and, through `SocketPresence`, on which instance), and closes every socket of a session when it
 * ends — here at once, and on every other instance through the presence's bus. Ends are the
 * module's lifecycle events (logout, revocations of every kind, eviction, reuse, hijack, expiry),
 * plus a timer per session at its expiry. An access token expiring (or rotated away) while its
 * session lives does not close a socket.
 */
@Injectable()
export class SessionSockets implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SessionSockets');
  private readonly warning = new ThrottledWarning('SessionSockets');
  /** This instance, in the presence entries. */
  readonly instanceId = randomUUID();
  private readonly bySocket = new WeakMap<object, Tracked>();
  private readonly bySession = new Map<string, Set<Tracked>>();
  private readonly recentlyEnded = new LRUCache<string, string>({ max: RECENT_ENDS, ttl: RECENT_END_MS });
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();
  private readonly liveChecks = new Map<string, { at: number; live: Promise<boolean> }>();
  private pendingEnds: SessionEnd[] = [];
  private pendingAdds: SocketEntry[] = [];
  private pendingRemoves: SocketEntry[] = [];
  private presenceFlush?: NodeJS.Immediate;
  private presenceWork: Promise<void> = Promise.resolve();
  private heartbeat?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly sessions: SessionService,
    private readonly presence: SocketPresence,
    private readonly events: SessionEventPublisher,
    private readonly metrics: SessionMetrics,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  /** Listens for ends: this instance's lifecycle events, and every instance's through the bus. */
  onModuleInit(): void {
    this.events.onEvent((event) => this.onLifecycleEvent(event));
    this.presence.onEnds((ends) => {
      for (const end of ends) this.closeLocal(end);
    });
    this.metrics.countSocketsWith(
      () => this.openCount(),
      () => this.counts().then((c) => c.users),
    );
  }

  /** Renews this instance's entries every third of the presence TTL, and forgets dead instances' ones. */
  onApplicationBootstrap(): void {
    const every = Math.max(200, Math.floor(this.presence.ttlMs / 3));
    const beat = () => {
      this.heartbeat = setTimeout(() => void this.beat().finally(() => !this.stopped && beat()), every);
      this.heartbeat.unref();
    };
    beat();
  }

  /** Stops the heartbeat and closes every socket (their entries expire with the TTL, or are removed if Redis is still there). */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.heartbeat);
    for (const timer of this.expiryTimers.values()) clearTimeout(timer);
    this.expiryTimers.clear();
    clearImmediate(this.presenceFlush);
    await this.presenceWork;
  }

  /**
   * Checks a handshake: its token (see `handshakeToken`) must belong to a live session. Answered
   * at once when this process's cache holds the session.
   * @param allowedOrigin whether a handshake carrying the access cookie may use it, by its `Origin`
   * @param ipAddress the client's address (only `ip` binding reads it)
   * @throws InvalidTokenError (synchronously, or by rejecting)
   */
  authenticate(
    handshake: SocketHandshake,
    allowedOrigin: (origin: string, host: string | undefined) => boolean,
    ipAddress?: string,
  ): SocketCredentials | Promise<SocketCredentials> {
    const found = handshakeToken(handshake, this.options.cookies !== false, allowedOrigin);
    if (found.token === undefined) {
      this.metrics.validation('missing');
      throw new InvalidTokenError('missing');
    }
    const userAgent = handshake.headers['user-agent'];
    const context: ClientContext = {
      ipAddress: this.options.binding === 'ip' ? ipAddress : undefined,
      userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    };
    const token = found.token;
    const session = this.sessions.validateNow(token, context);
    return session instanceof Promise ? session.then((s) => ({ session: s, token, context })) : { session, token, context };
  }

  /**
   * Starts keeping an authenticated socket: `@CurrentSession()` reads its session from now on, it
   * counts as online, and it is closed when its session ends.
   * @returns false when its session ended meanwhile (the socket is told and closed)
   */
  adopt(client: object, credentials: SocketCredentials): boolean {
    if (this.bySocket.has(client)) return !this.bySocket.get(client)!.done;
    const { session } = credentials;
    const handle = socketHandle(client);
    const endedFor = this.recentlyEnded.get(session.sessionId);
    if (endedFor !== undefined) {
      handle.end(endedFor);
      return false;
    }
    const tracked: Tracked = {
      client,
      handle,
      sessionId: session.sessionId,
      userId: session.userId,
      token: credentials.token,
      context: credentials.context,
      done: false,
    };
    attachRequestSession(client, session);
    this.bySocket.set(client, tracked);
    let local = this.bySession.get(session.sessionId);
    if (!local) {
      this.bySession.set(session.sessionId, (local = new Set()));
      this.scheduleExpiry(session.sessionId, session.userId, session.expiresAt.getTime());
    }
    local.add(tracked);
    handle.onClose(() => this.drop(tracked));
    this.queuePresence(this.pendingAdds, tracked);
    return true;
  }

  /**
   * The message guard's check (`SessionSocketGuard`): the socket's session is still live. Cheap:
   * the handshake token is validated again (in-process cache); once that token expired or was
   * rotated away while the session lives on, the session itself is checked in the store, at most
   * every few seconds per session.
   * @returns false for a socket this instance does not hold (not authenticated) or whose session ended
   */
  recheck(client: object): boolean | Promise<boolean> {
    const tracked = this.bySocket.get(client);
    if (!tracked || tracked.done) return false;
    let validated: AuthenticatedSession | Promise<AuthenticatedSession>;
    try {
      validated = this.sessions.validateNow(tracked.token, tracked.context);
    } catch (error) {
      return this.afterRefusal(tracked, error);
    }
    if (validated instanceof Promise) {
      return validated.then(
        (session) => this.refreshed(tracked, session),
        (error: unknown) => this.afterRefusal(tracked, error),
      );
    }
    return this.refreshed(tracked, validated);
  }

  /** The live sockets of a session, on every instance (this instance's only, while the presence backend fails). */
  async socketsOf(sessionId: string): Promise<SocketLocation[]> {
    return this.orLocal(
      () => this.presence.socketsOf(sessionId),
      () => [...(this.bySession.get(sessionId) ?? [])].map((t) => ({ instanceId: this.instanceId, socketId: t.handle.id })),
    );
  }

  /** Which of these sessions have a socket open anywhere. */
  async onlineAmong(sessionIds: readonly string[]): Promise<Set<string>> {
    return this.orLocal(
      () => this.presence.onlineSessions(sessionIds),
      () => new Set(sessionIds.filter((id) => this.bySession.has(id))),
    );
  }

  /** The sessions of a user that have a socket open anywhere. */
  async onlineSessionsOf(userId: string): Promise<string[]> {
    return this.orLocal(
      () => this.presence.onlineSessionsOfUser(userId),
      () => [...this.bySession.values()].filter((set) => [...set][0]?.userId === userId).map((set) => [...set][0].sessionId),
    );
  }

  /** Whether a user has a socket open anywhere. */
  async isOnline(userId: string): Promise<boolean> {
    return (await this.onlineSessionsOf(userId)).length > 0;
  }

  /** Sessions and users with a socket open anywhere. */
  async counts(): Promise<{ sessions: number; users: number }> {
    return this.orLocal(
      () => this.presence.counts(),
      () => ({ sessions: this.bySession.size, users: new Set([...this.bySession.values()].map((set) => [...set][0]?.userId)).size }),
    );
  }

  /** Sockets open on this instance. */
  openCount(): number {
    let open = 0;
    for (const set of this.bySession.values()) open += set.size;
    return open;
  }

  private onLifecycleEvent(event: SessionEvent): void {
    const reason = endReason(event);
    if (reason === undefined || event.sessionId === null || event.userId === null) return;
    const end: SessionEnd = { sessionId: event.sessionId, userId: event.userId, reason };
    this.closeLocal(end);
    // Every end of one call (a revokeAll of many sessions) goes to the other instances in one message.
    if (this.pendingEnds.push(end) === 1) {
      queueMicrotask(() => {
        const ends = this.pendingEnds;
        this.pendingEnds = [];
        this.presence.publishEnds(ends).catch((error: Error) =>
          this.warning.warn(`Could not tell other instances that ${ends.length} sessions ended: ${error.message}`),
        );
      });
    }
  }

  /** Tells each socket this instance holds of the session why it ends, and closes it. */
  private closeLocal(end: SessionEnd): void {
    this.recentlyEnded.set(end.sessionId, end.reason);
    const local = this.bySession.get(end.sessionId);
    if (!local) return;
    for (const tracked of local) {
      tracked.handle.end(end.reason);
      this.drop(tracked);
    }
  }

  /** Forgets a socket (closed by either side), once. */
  private drop(tracked: Tracked): void {
    if (tracked.done) return;
    tracked.done = true;
    const local = this.bySession.get(tracked.sessionId);
    local?.delete(tracked);
    if (local?.size === 0) {
      this.bySession.delete(tracked.sessionId);
      clearTimeout(this.expiryTimers.get(tracked.sessionId));
      this.expiryTimers.delete(tracked.sessionId);
      this.liveChecks.delete(tracked.sessionId);
    }
    this.queuePresence(this.pendingRemoves, tracked);
  }

  private refreshed(tracked: Tracked, session: AuthenticatedSession): boolean {
    if (tracked.done) return false;
    attachRequestSession(tracked.client, session); // roles changed since the handshake show here
    return true;
  }

  private afterRefusal(tracked: Tracked, error: unknown): boolean | Promise<boolean> {
    if (!(error instanceof InvalidTokenError)) throw error;
    // The handshake token expired or was rotated away: not the session's end. The store decides.
    if (error.detail !== 'expired' && error.detail !== 'revoked') return false;
    return this.sessionLive(tracked.sessionId).then((live) => {
      if (!live) this.closeLocal({ sessionId: tracked.sessionId, userId: tracked.userId, reason: error.detail });
      return live && !tracked.done;
    });
  }

  private sessionLive(sessionId: string): Promise<boolean> {
    const now = Date.now();
    const known = this.liveChecks.get(sessionId);
    if (known && now - known.at < LIVE_CHECK_MS) return known.live;
    const live = this.sessions.findById(sessionId).then((s) => s !== null);
    live.catch(() => this.liveChecks.delete(sessionId));
    this.liveChecks.set(sessionId, { at: now, live });
    return live;
  }

  /** At the session's end (as known at the handshake), asks the store whether it ended; else waits for its new end. */
  private scheduleExpiry(sessionId: string, userId: string, at: number): void {
    clearTimeout(this.expiryTimers.get(sessionId));
    const timer = setTimeout(() => void this.checkExpiry(sessionId, userId), Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())));
    timer.unref();
    this.expiryTimers.set(sessionId, timer);
  }

  private async checkExpiry(sessionId: string, userId: string): Promise<void> {
    if (!this.bySession.has(sessionId)) return;
    try {
      const session = await this.sessions.findById(sessionId);
      if (!session) return this.closeLocal({ sessionId, userId, reason: 'expired' });
      const idleEnd = session.lastActivityAt.getTime() + this.options.idleTtl * 1000;
      if (this.bySession.has(sessionId)) this.scheduleExpiry(sessionId, userId, Math.min(session.expiresAt.getTime(), idleEnd));
    } catch (error) {
      this.warning.warn(`Could not check whether session ${sessionId} expired, will retry: ${(error as Error).message}`);
      if (this.bySession.has(sessionId)) this.scheduleExpiry(sessionId, userId, Date.now() + LIVE_CHECK_MS);
    }
  }

  private queuePresence(queue: SocketEntry[], tracked: Tracked): void {
    queue.push({ socketId: tracked.handle.id, sessionId: tracked.sessionId, userId: tracked.userId });
    // Sockets opening or closing together (a reconnect storm, a revokeAll) cost one call.
    this.presenceFlush ??= setImmediate(() => {
      this.presenceFlush = undefined;
      this.presenceWork = this.presenceWork.then(() => this.flushPresence());
    });
  }

  private async flushPresence(): Promise<void> {
    const adds = this.pendingAdds;
    const removes = this.pendingRemoves;
    this.pendingAdds = [];
    this.pendingRemoves = [];
    try {
      if (adds.length > 0) this.announceOnline(await this.presence.add(this.instanceId, adds), adds);
      if (removes.length > 0) this.announceOffline(await this.presence.remove(this.instanceId, removes));
    } catch (error) {
      // The next heartbeat adds every socket again; removed ones expire with the TTL.
      this.warning.warn(`Socket presence unavailable (answering from this instance): ${(error as Error).message}`);
    }
  }

  /** Renews every socket this instance holds, and forgets the entries of instances that stopped. */
  private async beat(): Promise<void> {
    const entries: SocketEntry[] = [];
    for (const set of this.bySession.values()) {
      for (const t of set) entries.push({ socketId: t.handle.id, sessionId: t.sessionId, userId: t.userId });
    }
    await this.presenceWork;
    try {
      if (entries.length > 0) this.announceOnline(await this.presence.add(this.instanceId, entries), entries);
      this.announceOffline(await this.presence.reap());
    } catch (error) {
      this.warning.warn(`Socket presence heartbeat failed: ${(error as Error).message}`);
    }
  }

  private announceOnline(sessionIds: string[], entries: SocketEntry[]): void {
    if (sessionIds.length === 0) return;
    const owners = new Map(entries.map((e) => [e.sessionId, e.userId]));
    for (const sessionId of sessionIds) {
      const userId = owners.get(sessionId);
      if (userId !== undefined) this.events.presence(true, userId, sessionId);
    }
  }

  private announceOffline(sessions: Array<{ sessionId: string; userId: string }>): void {
    for (const { sessionId, userId } of sessions) this.events.presence(false, userId, sessionId);
  }

  private async orLocal<T>(remote: () => Promise<T>, local: () => T): Promise<T> {
    try {
      return await remote();
    } catch (error) {
      this.warning.warn(`Socket presence unavailable (answering from this instance): ${(error as Error).message}`);
      return local();
    }
  }
}

/** Why a lifecycle event ends its session's sockets, or undefined when it does not (a login, a refresh). */
function endReason(event: SessionEvent): string | undefined {
  switch (event.type) {
    case 'logout':
    case 'evicted':
    case 'replaced':
    case 'reuse_detected':
    case 'hijack_suspected':
      return event.type;
    case 'revoked':
      return event.detail ?? 'revoked';
    case 'expired':
      return event.detail === 'idle' ? 'idle' : 'expired';
    default:
      return undefined;
  }
}
