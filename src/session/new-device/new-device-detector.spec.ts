import { MemorySessionStore } from '../adapters/memory/memory-session.store.js';
import type { NewSessionRecord, SessionInfo } from '../ports/session-record.js';
import { toSessionInfo } from '../ports/session-record.js';
import { resolveSessionOptions } from '../resolve-options.js';
import { SessionEventPublisher } from '../session-event.publisher.js';
import type { SessionEvent } from '../session.events.js';
import type { SessionModuleOptions } from '../session.options.js';
import { describeClient } from './client-novelty.js';
import { NewDeviceDetector } from './new-device-detector.js';
import { NewDeviceEvent } from './new-device.event.js';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const FIREFOX_LINUX_NEWER = 'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0';
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
const DAY_MS = 86_400_000;
const NOW = Date.UTC(2030, 0, 31);

let counter = 0;
function session(overrides: Partial<NewSessionRecord> = {}): NewSessionRecord {
  const createdAt = overrides.createdAt ?? new Date(NOW);
  return {
    id: `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
    userId: 'u1',
    roles: [],
    accessHash: `a${counter}`,
    refreshHash: `r${counter}`,
    accessExpiresAt: new Date(createdAt.getTime() + 900_000),
    expiresAt: new Date(createdAt.getTime() + 7 * DAY_MS),
    absoluteExpiresAt: new Date(createdAt.getTime() + 30 * DAY_MS),
    createdAt,
    authenticatedAt: createdAt,
    lastActivityAt: createdAt,
    ipAddress: '203.0.113.7',
    userAgent: FIREFOX_LINUX,
    deviceName: null,
    deviceType: null,
    deviceId: null,
    data: null,
    ...overrides,
  };
}

function setup(options: Partial<SessionModuleOptions> = {}) {
  const store = new MemorySessionStore();
  const publisher = new SessionEventPublisher();
  const seen: SessionEvent[] = [];
  publisher.onEvent((event) => seen.push(event));
  const resolved = resolveSessionOptions({
    secret: 'new-device-secret-new-device-secret-0123',
    credentials: { verify: async () => null, findById: async () => null },
    ...options,
  });
  const detector = new NewDeviceDetector(store, publisher, resolved);
  /** Stores an earlier session of the user. */
  const earlier = async (overrides: Partial<NewSessionRecord> = {}) => {
    await store.insert(session({ createdAt: new Date(NOW - DAY_MS), ...overrides }));
  };
  /** Stores the session a login just opened and runs the check on it; the events it published. */
  const login = async (overrides: Partial<NewSessionRecord> = {}): Promise<NewDeviceEvent[]> => {
    const before = seen.length;
    const { session: opened } = await store.insert(session(overrides));
    await detector.check(toSessionInfo(opened));
    return seen.slice(before) as NewDeviceEvent[];
  };
  return { store, detector, earlier, login, seen };
}

describe('NewDeviceDetector', () => {
  it("a user's first login is no alert: nothing to compare with", async () => {
    const { login } = setup();
    expect(await login()).toEqual([]);
  });

  it('the same browser family (a newer version) on the same /24 is no alert', async () => {
    const { earlier, login } = setup();
    await earlier({ ipAddress: '203.0.113.200' });
    expect(await login({ userAgent: FIREFOX_LINUX_NEWER, ipAddress: '203.0.113.7' })).toEqual([]);
  });

  it('a new browser family is an alert carrying the browser, OS and network in words', async () => {
    const { earlier, login } = setup();
    await earlier();
    const [event] = await login({ userAgent: CHROME_MAC, deviceName: 'Work laptop' });
    expect(event).toBeInstanceOf(NewDeviceEvent);
    expect(event.type).toBe('new_device');
    expect(event.detail).toBe('new browser: Chrome on macOS, 203.0.113.0/24');
    expect(event.login).toEqual({
      novel: ['browser'],
      browser: 'Chrome',
      os: 'macOS',
      network: '203.0.113.0/24',
      deviceName: 'Work laptop',
      summary: 'A new sign-in from Chrome on macOS (network 203.0.113.0/24)',
    });
  });

  it('a new /24, or a new /48, is an alert', async () => {
    const { earlier, login } = setup();
    await earlier({ ipAddress: '203.0.113.7' });
    await earlier({ ipAddress: '2001:db8:1:2::1' });
    expect((await login({ ipAddress: '203.0.114.7' }))[0].login.novel).toEqual(['network']);
    expect(await login({ ipAddress: '2001:db8:1:ffff::9' })).toEqual([]);
    const [v6] = await login({ ipAddress: '2001:db8:2::1' });
    expect(v6.detail).toBe('new network: Firefox on Linux, 2001:db8:2::/48');
  });

  it('a device id the user has not used is an alert; a login without one compares browser and network only', async () => {
    const { earlier, login } = setup();
    await earlier({ deviceId: 'phone-1' });
    expect((await login({ deviceId: 'phone-2' }))[0].login.novel).toEqual(['device']);
    expect(await login({ deviceId: null })).toEqual([]);
  });

  it('looks back `newDeviceLookback` seconds and at most `newDeviceLookbackSessions` sessions', async () => {
    const { earlier, login } = setup({ newDeviceLookback: 7 * 86_400, newDeviceLookbackSessions: 2 });
    await earlier({ userAgent: CHROME_MAC, createdAt: new Date(NOW - 8 * DAY_MS) }); // before the lookback
    await earlier({ createdAt: new Date(NOW - 2 * DAY_MS) });
    expect((await login({ userAgent: CHROME_MAC }))[0].login.novel).toEqual(['browser']);
    // Now two newer Firefox sessions hide the older Chrome one from a limit of 2.
    const { earlier: earlier2, login: login2 } = setup({ newDeviceLookbackSessions: 2 });
    await earlier2({ userAgent: CHROME_MAC, createdAt: new Date(NOW - 3 * DAY_MS) });
    await earlier2({ createdAt: new Date(NOW - 2 * DAY_MS) });
    await earlier2({ createdAt: new Date(NOW - DAY_MS) });
    expect((await login2({ userAgent: CHROME_MAC }))[0].login.novel).toEqual(['browser']);
  });

  it('other users\' sessions do not count', async () => {
    const { earlier, login } = setup();
    await earlier();
    await earlier({ userId: 'u2', userAgent: CHROME_MAC });
    expect(await login({ userAgent: CHROME_MAC })).toHaveLength(1);
  });

  it('newDeviceLookback: 0 turns the check off without a query', async () => {
    const { store, earlier, login } = setup({ newDeviceLookback: 0 });
    await earlier();
    const read = vi.spyOn(store, 'recentClients');
    expect(await login({ userAgent: CHROME_MAC })).toEqual([]);
    expect(read).not.toHaveBeenCalled();
  });

  it('a history read along with the eviction (historyQuery) is used as given, without another query', async () => {
    const { store, detector, earlier, seen } = setup({ newDeviceLookback: 3600, newDeviceLookbackSessions: 7 });
    await earlier({ createdAt: new Date(NOW - 60_000) });
    const { session: opened } = await store.insert(session({ userAgent: CHROME_MAC }));
    const query = detector.historyQuery(toSessionInfo(opened));
    expect(query).toEqual({ userId: 'u1', since: new Date(NOW - 3_600_000), limit: 7, exceptId: opened.id });
    const { recentClients: history } = await store.evictBeyondThenRecentClients('u1', 10, { now: new Date(NOW), activeSince: new Date(0) }, opened.id, query);
    const read = vi.spyOn(store, 'recentClients');
    await detector.check(toSessionInfo(opened), history);
    expect(read).not.toHaveBeenCalled();
    expect(seen.map((e) => e.type)).toEqual(['new_device']);
    // null (not read): the detector asks itself.
    await detector.check(toSessionInfo(opened), null);
    expect(read).toHaveBeenCalledTimes(1);
    expect(setup({ newDeviceLookback: 0 }).detector.historyQuery(toSessionInfo(opened))).toBeNull();
  });

  it('a failing store does not fail the login: logged, no event', async () => {
    const { store, detector } = setup();
    vi.spyOn(store, 'recentClients').mockRejectedValue(new Error('connection terminated'));
    const { session: opened } = await store.insert(session());
    const warn = vi.spyOn((detector as unknown as { logger: { warn: (m: string) => void } }).logger, 'warn').mockImplementation(() => undefined);
    await expect(detector.check(toSessionInfo(opened) as SessionInfo)).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('connection terminated'));
  });
});

describe('describeClient', () => {
  it('names the browser, OS and network; null for what the client does not say', () => {
    expect(describeClient({ userAgent: FIREFOX_LINUX, ipAddress: '::ffff:198.51.100.9' })).toEqual({ browser: 'Firefox', os: 'Linux', network: '198.51.100.0/24' });
    expect(describeClient({ userAgent: null, ipAddress: null })).toEqual({ browser: null, os: null, network: null });
  });
});
