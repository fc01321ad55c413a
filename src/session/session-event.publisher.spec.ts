import { Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Registry } from 'prom-client';
import { MemoryAuditLog } from './adapters/memory/memory-audit.log.js';
import { SessionMetrics } from './metrics/session-metrics.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import { SessionEvent } from './session.events.js';

const event = (type: SessionEvent['type'], detail: string | null = null) =>
  new SessionEvent(type, new Date(), 'user-1', null, null, null, detail);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('SessionEventPublisher', () => {
  it('emits each event to listeners at once and appends it to the audit trail in a batch', async () => {
    vi.useFakeTimers();
    const audit = new MemoryAuditLog();
    const append = vi.spyOn(audit, 'append');
    const emitter = new EventEmitter2({ wildcard: true });
    const heard: string[] = [];
    emitter.on('session.*', (e: SessionEvent) => heard.push(e.type));
    const publisher = withEmitter(new SessionEventPublisher(audit, undefined), emitter);
    publisher.publish(event('login'));
    publisher.publish(event('logout'));
    expect(heard).toEqual(['login', 'logout']);
    expect(append).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(600);
    expect(append).toHaveBeenCalledTimes(1);
    expect((await audit.page({ offset: 0, limit: 10 })).total).toBe(2);
  });

  it('keeps a batch the trail refused and writes it on the next try, in order', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const audit = new MemoryAuditLog();
    const append = vi.spyOn(audit, 'append').mockRejectedValueOnce(new Error('database down'));
    const publisher = new SessionEventPublisher(audit);
    publisher.publish(event('login', 'first'));
    await publisher.flush();
    expect((await audit.page({ offset: 0, limit: 10 })).total).toBe(0);
    publisher.publish(event('logout', 'second'));
    await publisher.flush();
    expect(append).toHaveBeenCalledTimes(2);
    const { items } = await audit.page({ offset: 0, limit: 10 });
    expect(items.map((e) => e.detail).sort()).toEqual(['first', 'second']);
    expect(append.mock.calls[1][0].map((e) => e.detail)).toEqual(['first', 'second']);
  });

  it('holds at most 10,000 events while the trail is down, dropping the oldest', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const audit = new MemoryAuditLog();
    const append = vi.spyOn(audit, 'append').mockRejectedValue(new Error('database down'));
    const publisher = new SessionEventPublisher(audit);
    for (let i = 0; i < 10_050; i++) publisher.publish(event('refresh', String(i)));
    await publisher.flush();
    append.mockRestore();
    await publisher.flush();
    const { total, items } = await audit.page({ offset: 0, limit: 1 });
    expect(total).toBe(10_000);
    expect(items[0].detail).toBe('10049');
    expect((await audit.page({ offset: 9_999, limit: 1 })).items[0].detail).toBe('50');
  });

  it('counts events in the metrics', async () => {
    const registry = new Registry();
    const publisher = new SessionEventPublisher(undefined, new SessionMetrics(registry));
    publisher.publish(event('login'));
    publisher.publish(event('login_failed'));
    publisher.publish(event('revoked', 'revoked_by_admin'));
    const text = await registry.metrics();
    expect(text).toContain('session_logins_total{result="success"} 1');
    expect(text).toContain('session_logins_total{result="failure"} 1');
    expect(text).toContain('session_revocations_total{reason="revoked_by_admin"} 1');
  });
});

function withEmitter(publisher: SessionEventPublisher, emitter: EventEmitter2): SessionEventPublisher {
  publisher.emitTo(emitter);
  return publisher;
}
