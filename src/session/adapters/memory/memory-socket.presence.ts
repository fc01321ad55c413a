import type { OfflineSession, SessionEnd, SocketEntry, SocketLocation } from '../../ports/socket-presence.js';
import { SocketPresence } from '../../ports/socket-presence.js';

interface Held {
  userId: string;
  /** `instanceId socketId` → expiry (epoch ms). */
  sockets: Map<string, number>;
}

/**
 * Presence in this process: right for one instance (no `REDIS_URL`). Ends are delivered to this
 * process's handlers only.
 */
export class MemorySocketPresence extends SocketPresence {
  readonly backend = 'memory';
  private readonly sessions = new Map<string, Held>();
  private readonly handlers: Array<(ends: SessionEnd[]) => void> = [];

  /** @param ttlMs how long an entry lives unless renewed (default 30 s) */
  constructor(readonly ttlMs = 30_000) {
    super();
  }

  async add(instanceId: string, entries: readonly SocketEntry[]): Promise<string[]> {
    const now = Date.now();
    const came: string[] = [];
    for (const { socketId, sessionId, userId } of entries) {
      let held = this.sessions.get(sessionId);
      if (!held || !this.live(held, now)) {
        if (!came.includes(sessionId)) came.push(sessionId);
        held ??= { userId, sockets: new Map() };
        this.sessions.set(sessionId, held);
      }
      held.sockets.set(`${instanceId} ${socketId}`, now + this.ttlMs);
    }
    return came;
  }

  async remove(instanceId: string, entries: readonly SocketEntry[]): Promise<OfflineSession[]> {
    const now = Date.now();
    const went: OfflineSession[] = [];
    for (const { socketId, sessionId, userId } of entries) {
      const held = this.sessions.get(sessionId);
      if (!held) continue;
      held.sockets.delete(`${instanceId} ${socketId}`);
      if (!this.live(held, now)) {
        this.sessions.delete(sessionId);
        went.push({ sessionId, userId });
      }
    }
    return went;
  }

  async reap(): Promise<OfflineSession[]> {
    const now = Date.now();
    const went: OfflineSession[] = [];
    for (const [sessionId, held] of this.sessions) {
      if (this.live(held, now)) continue;
      this.sessions.delete(sessionId);
      went.push({ sessionId, userId: held.userId });
    }
    return went;
  }

  async socketsOf(sessionId: string): Promise<SocketLocation[]> {
    const now = Date.now();
    return [...(this.sessions.get(sessionId)?.sockets ?? [])]
      .filter(([, expiry]) => expiry > now)
      .map(([key]) => {
        const [instanceId, socketId] = key.split(' ');
        return { instanceId, socketId };
      });
  }

  async onlineSessions(sessionIds: readonly string[]): Promise<Set<string>> {
    const now = Date.now();
    return new Set(sessionIds.filter((id) => {
      const held = this.sessions.get(id);
      return held !== undefined && this.live(held, now);
    }));
  }

  async onlineSessionsOfUser(userId: string): Promise<string[]> {
    const now = Date.now();
    return [...this.sessions].filter(([, held]) => held.userId === userId && this.live(held, now)).map(([id]) => id);
  }

  async counts(): Promise<{ sessions: number; users: number }> {
    const now = Date.now();
    const users = new Set<string>();
    let sessions = 0;
    for (const held of this.sessions.values()) {
      if (!this.live(held, now)) continue;
      sessions += 1;
      users.add(held.userId);
    }
    return { sessions, users: users.size };
  }

  async publishEnds(ends: readonly SessionEnd[]): Promise<void> {
    for (const handler of this.handlers) handler([...ends]);
  }

  onEnds(handler: (ends: SessionEnd[]) => void): void {
    this.handlers.push(handler);
  }

  private live(held: Held, now: number): boolean {
    for (const expiry of held.sockets.values()) if (expiry > now) return true;
    return false;
  }
}
