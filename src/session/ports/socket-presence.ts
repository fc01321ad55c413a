/** One socket of a session, as one instance holds it. */
export interface SocketEntry {
  socketId: string;
  sessionId: string;
  userId: string;
}

/** A session whose last socket went away (closed, or its instance stopped renewing it). */
export interface OfflineSession {
  sessionId: string;
  userId: string;
}

/** A session that ended, as every instance is told it: which one, whose, and why (a revocation reason, `logout`, `expired`, …). */
export interface SessionEnd {
  sessionId: string;
  userId: string;
  reason: string;
}

/** Where a socket is: the instance that holds it, and its id there. */
export interface SocketLocation {
  instanceId: string;
  socketId: string;
}

/**
 * Which sockets are open for which session, on every instance, and the bus that tells every
 * instance a session ended. An entry lives `ttlMs` unless its instance renews it (`add` again,
 * the heartbeat), so the sockets of an instance that died unannounced (SIGKILL) stop counting
 * after at most `ttlMs`.
 *
 * Adapters: `MemorySocketPresence` (the default: this process only) and
 * `redisSessionAdapters().presence` (shared by every instance, with Redis pub/sub for ends).
 * Reads may reject when the backend fails; `SessionSockets` then answers from this instance's
 * own sockets.
 */
export abstract class SocketPresence {
  /** What serves it, for the start-up log. */
  abstract readonly backend: string;
  /** How long an entry lives without being renewed, in milliseconds. */
  abstract readonly ttlMs: number;
  /**
   * Records (or renews) sockets this instance holds.
   * @returns the sessions among them that had no live socket anywhere before: they just came online
   */
  abstract add(instanceId: string, entries: readonly SocketEntry[]): Promise<string[]>;
  /**
   * Forgets sockets this instance held.
   * @returns the sessions among them left with no live socket anywhere: they just went offline
   */
  abstract remove(instanceId: string, entries: readonly SocketEntry[]): Promise<OfflineSession[]>;
  /**
   * Forgets entries no instance renewed in time.
   * @returns the sessions that went offline that way (each answered to one caller only)
   */
  abstract reap(): Promise<OfflineSession[]>;
  /** The live sockets of a session, on every instance. */
  abstract socketsOf(sessionId: string): Promise<SocketLocation[]>;
  /** Which of these sessions have a live socket. */
  abstract onlineSessions(sessionIds: readonly string[]): Promise<Set<string>>;
  /** The sessions of a user that have a live socket. */
  abstract onlineSessionsOfUser(userId: string): Promise<string[]>;
  /** Sessions and users with at least one live socket, everywhere. */
  abstract counts(): Promise<{ sessions: number; users: number }>;
  /** Tells every instance (this one included) that these sessions ended. */
  abstract publishEnds(ends: readonly SessionEnd[]): Promise<void>;
  /** Calls `handler` with every batch of ends any instance publishes. */
  abstract onEnds(handler: (ends: SessionEnd[]) => void): void;
}
