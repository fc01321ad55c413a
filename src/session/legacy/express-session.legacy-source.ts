import { signedCookie } from 'cookie-parser';
import { SessionConfigurationError } from '../errors/session-configuration.error.js';
import { RedisConnectionConfig, SessionRedisConnection } from '../adapters/redis/redis-connection.js';
import { ThrottledWarning } from '../runtime/throttled-warning.js';
import { LegacyCredential, LegacyRequest, LegacySessionSource } from '../ports/legacy-session-source.js';
import { requestCookies } from '../http/session-cookies.js';

/** Where an express-session + connect-redis app keeps its sessions, and how it signs its cookie. */
export interface ExpressSessionLegacyOptions {
  /** The express-session `secret` (or its list: the first signed, all verify), as that app has it. */
  secret: string | string[];
  /** That app's Redis (a URL, ioredis options, or a client the app owns). */
  redis: RedisConnectionConfig;
  /** connect-redis's key prefix. @default 'sess:' */
  prefix?: string;
  /** express-session's cookie name. @default 'connect.sid' */
  cookieName?: string;
  /**
   * Where the user id is in the stored session, as a dotted path. @default `userId`, else
   * `passport.user` (where passport's `serializeUser` puts it)
   */
  userField?: string;
  /** Keys read per SCAN call when counting the sessions still waiting. @default 1000 */
  scanCount?: number;
}

const DEFAULT_USER_FIELDS = ['userId', 'passport.user'];

/** PEXPIRE to ARGV[1] ms unless the key already expires sooner (PEXPIRE … LT needs Redis 7). */
const SHORTEN_TTL = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return 0 end
if ttl == -1 or ttl > tonumber(ARGV[1]) then return redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 0`;

/**
 * The sessions of an express-session + connect-redis app. The cookie is checked as express-session
 * checks it (`s:<sid>.<HMAC-SHA256 base64 without '='>`, through cookie-parser's `signedCookie`,
 * against each secret), then `<prefix><sid>` is read from that Redis; the user id is taken from the
 * stored JSON. Retiring shortens the entry's TTL to the grace (connect-redis then forgets it).
 */
export class ExpressSessionLegacySource extends LegacySessionSource {
  readonly name = 'express-session';
  readonly presentedAs = 'cookie' as const;
  private readonly secrets: string[];
  private readonly prefix: string;
  private readonly cookieName: string;
  private readonly userFields: string[];
  private readonly scanCount: number;
  private readonly connection: SessionRedisConnection;
  private readonly warning = new ThrottledWarning('LegacySessions');
  private started?: Promise<void>;

  constructor(options: ExpressSessionLegacyOptions) {
    super();
    this.secrets = (Array.isArray(options.secret) ? options.secret : [options.secret]).filter((s) => typeof s === 'string' && s !== '');
    if (this.secrets.length === 0) {
      throw new SessionConfigurationError('ExpressSessionLegacySource needs the express-session secret (LEGACY_SESSION_SECRET).');
    }
    this.prefix = options.prefix ?? 'sess:';
    this.cookieName = options.cookieName ?? 'connect.sid';
    this.userFields = options.userField ? [options.userField] : DEFAULT_USER_FIELDS;
    this.scanCount = options.scanCount ?? 1000;
    this.connection = new SessionRedisConnection(options.redis);
  }

  override async start(): Promise<void> {
    this.started ??= this.connection.retain();
    await this.started;
  }

  override async close(): Promise<void> {
    if (this.started) await this.connection.release();
  }

  presents(req: LegacyRequest): boolean {
    const cookie = req.headers.cookie;
    return typeof cookie === 'string' && cookie.includes(`${this.cookieName}=`);
  }

  async find(req: LegacyRequest): Promise<LegacyCredential | null> {
    const sid = this.sessionId(req);
    if (sid === null) return null;
    let stored: string | null;
    try {
      stored = await this.connection.client.get(this.prefix + sid);
    } catch (error) {
      this.warning.warn(`Legacy sessions: the express-session Redis did not answer (${(error as Error).message}); not upgraded`);
      return null;
    }
    if (stored === null) return null;
    const userId = this.userIdOf(stored);
    return userId === null ? null : { key: this.prefix + sid, userId };
  }

  async retire(credential: LegacyCredential, graceSeconds: number): Promise<void> {
    // Only ever shortens: a second upgrade within the grace leaves the first deadline.
    await this.connection.client.eval(SHORTEN_TTL, 1, credential.key, Math.max(1, Math.round(graceSeconds * 1000)));
  }

  /** The session id of a correctly signed cookie, else null. */
  sessionId(req: LegacyRequest): string | null {
    const raw = requestCookies(req)[this.cookieName];
    // cookie-parser's signedCookie returns an unsigned value as it is: only `s:` values count.
    if (typeof raw !== 'string' || !raw.startsWith('s:')) return null;
    const sid = signedCookie(raw, this.secrets);
    return typeof sid === 'string' && sid !== raw && sid !== '' ? sid : null;
  }

  private userIdOf(stored: string): string | null {
    let data: unknown;
    try {
      data = JSON.parse(stored);
    } catch {
      return null;
    }
    const expires = (data as { cookie?: { expires?: unknown } } | null)?.cookie?.expires;
    if (typeof expires === 'string' && Date.parse(expires) <= Date.now()) return null;
    for (const field of this.userFields) {
      const value = field.split('.').reduce<unknown>((at, part) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined), data);
      if (typeof value === 'string' && value !== '') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    }
    return null;
  }

  async countWaiting(): Promise<number> {
    await this.start();
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await this.connection.client.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', this.scanCount);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
    return count;
  }
}
