import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
  type Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type * as EventEmitterPackage from '@nestjs/event-emitter';
import { optionalPeer } from './runtime/optional-peer.js';
import { AuditLog } from './ports/audit-log.js';
import { SessionMetrics } from './metrics/session-metrics.js';
import { SESSION_EVENT, SESSION_OFFLINE, SESSION_ONLINE, SessionEvent } from './session.events.js';
import { ThrottledWarning } from './runtime/throttled-warning.js';

/** What events are emitted through: `@nestjs/event-emitter`'s `EventEmitter2`, or anything alike. */
export interface SessionEventEmitter {
  emit(event: string, ...values: unknown[]): unknown;
}

/** Events kept in memory at most while the audit trail cannot be written (oldest dropped first). */
const MAX_PENDING = 10_000;
/** A batch is written this long after its first event, or at once when this many are waiting. */
const FLUSH_AFTER_MS = 500;
const FLUSH_AT = 500;

/**
 * Where every lifecycle event goes: counted in the metrics, appended to the audit trail in
 * batches off the request path, and emitted through `@nestjs/event-emitter` for the app's
 * `@OnEvent('session.*')` listeners (when the app registered `EventEmitterModule`; the optional
 * peer `@nestjs/event-emitter` is not loaded otherwise).
 *
 * A batch that cannot be written (database down) is kept and tried again; at most
 * `MAX_PENDING` events wait, beyond that the oldest are dropped with a warning. Pending events
 * are written before the app's database connection closes.
 */
@Injectable()
export class SessionEventPublisher implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('SessionAudit');
  private readonly dropWarning = new ThrottledWarning('SessionAudit');
  private pending: SessionEvent[] = [];
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  private dropped = 0;
  private emitter?: SessionEventEmitter;
  private readonly listeners: Array<(event: SessionEvent) => void> = [];

  constructor(
    @Optional() private readonly audit?: AuditLog,
    @Optional() private readonly metrics?: SessionMetrics,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {}

  /** Finds the app's `EventEmitter2`, once every provider exists. */
  onModuleInit(): void {
    const emitterClass = optionalPeer<typeof EventEmitterPackage>('@nestjs/event-emitter')?.EventEmitter2 as Type | undefined;
    if (!emitterClass || !this.moduleRef) return;
    try {
      this.emitTo(this.moduleRef.get(emitterClass, { strict: false }));
    } catch {
      // The app did not register EventEmitterModule: nobody listens.
    }
  }

  /** Emits every event through this emitter from now on (found by itself in an app with `EventEmitterModule`). */
  emitTo(emitter: SessionEventEmitter): void {
    this.emitter = emitter;
  }

  /** Calls `listener` with every event published from now on, synchronously (the module's own parts, e.g. `SessionSockets`). */
  onEvent(listener: (event: SessionEvent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * A session came online (its first socket anywhere) or went offline (its last one closed, or
   * its instance stopped renewing it): emitted as `session.online` / `session.offline`, with
   * `{ userId, sessionId, at }`. Presence is not a lifecycle event: no audit entry.
   */
  presence(online: boolean, userId: string, sessionId: string): void {
    this.emitter?.emit(online ? SESSION_ONLINE : SESSION_OFFLINE, { userId, sessionId, at: new Date() });
  }

  publish(event: SessionEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error(`A session event listener failed: ${(error as Error).message}`);
      }
    }
    this.metrics?.event(event);
    if (this.audit) {
      this.pending.push(event);
      if (this.pending.length > MAX_PENDING) this.dropOldest();
      if (this.pending.length >= FLUSH_AT) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), FLUSH_AFTER_MS).unref();
    }
    this.emitter?.emit(SESSION_EVENT[event.type], event);
  }

  /** Writes every pending event now; resolves once they are written or put back for a retry. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    if (!this.audit || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.writing = this.audit.append(batch).then(
      () => undefined,
      (error: Error) => {
        this.logger.warn(`Could not write ${batch.length} audit events, will retry: ${error.message}`);
        this.pending = [...batch, ...this.pending];
        if (this.pending.length > MAX_PENDING) this.dropOldest();
        this.timer ??= setTimeout(() => void this.flush(), 5 * FLUSH_AFTER_MS).unref();
      },
    );
    await this.writing;
    this.writing = undefined;
  }

  /** Before the DataSource closes (it closes in `onApplicationShutdown`). */
  beforeApplicationShutdown(): Promise<void> {
    return this.flush();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }

  private dropOldest(): void {
    const excess = this.pending.length - MAX_PENDING;
    this.pending.splice(0, excess);
    this.dropped += excess;
    this.dropWarning.warn(`Audit trail unavailable: dropped ${this.dropped} events so far (at most ${MAX_PENDING} wait in memory)`);
  }
}
