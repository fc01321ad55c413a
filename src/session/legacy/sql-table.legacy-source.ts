import type { DataSource } from 'typeorm';
import { SessionConfigurationError } from '../errors/session-configuration.error.js';
import { rowsOf, runStatement } from '../adapters/typeorm/run-statement.js';
import { LegacyCredential, LegacyRequest, LegacySessionSource } from '../ports/legacy-session-source.js';

/** A legacy sessions table: which columns hold what. Names are SQL identifiers (letters, digits, `_`, optionally `schema.`). */
export interface SqlTableLegacyOptions {
  /** The app's DataSource (PostgreSQL). */
  dataSource: DataSource;
  /** @default 'sessions' */
  table?: string;
  /** The raw token the clients send as `Authorization: Bearer <token>`. @default 'token' */
  tokenColumn?: string;
  /** @default 'user_id' */
  userIdColumn?: string;
  /** When the session ends (timestamp); null or absent: never. @default 'expires_at' */
  expiresColumn?: string;
  /** A boolean that is false once the session was ended; `null` when the table has none. @default 'is_active' */
  activeColumn?: string | null;
  /** Longest token read (longer ones are not looked up). @default 512 */
  maxTokenLength?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

function identifier(name: string, option: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new SessionConfigurationError(`SqlTableLegacySource option "${option}" must be an SQL identifier (letters, digits, _), got "${name}".`);
  }
  return name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

/**
 * The sessions of an app that kept them in a table with the raw token in a column (seeds of the
 * `sessions` / `user_sessions` shape), presented by its clients as a bearer token. A token with
 * this module's shape is never looked up here (it is this module's). Retiring moves the row's
 * expiry to the end of the grace (and never later).
 */
export class SqlTableLegacySource extends LegacySessionSource {
  readonly name = 'sql-table';
  readonly presentedAs = 'bearer' as const;
  private readonly findSql: string;
  private readonly retireSql: string;
  private readonly countSql: string;
  private readonly maxTokenLength: number;

  constructor(private readonly options: SqlTableLegacyOptions) {
    super();
    const table = identifier(options.table ?? 'sessions', 'table');
    const token = identifier(options.tokenColumn ?? 'token', 'tokenColumn');
    const user = identifier(options.userIdColumn ?? 'user_id', 'userIdColumn');
    const expires = identifier(options.expiresColumn ?? 'expires_at', 'expiresColumn');
    const activeName = options.activeColumn === undefined ? 'is_active' : options.activeColumn;
    const active = activeName === null ? null : identifier(activeName, 'activeColumn');
    const live = `(${expires} IS NULL OR ${expires} > now())${active ? ` AND ${active}` : ''}`;
    this.findSql = `SELECT ${user}::text AS user_id FROM ${table} WHERE ${token} = $1 AND ${live} LIMIT 1`;
    this.retireSql = `UPDATE ${table} SET ${expires} = now() + make_interval(secs => $2)
                       WHERE ${token} = $1 AND (${expires} IS NULL OR ${expires} > now() + make_interval(secs => $2))`;
    this.countSql = `SELECT count(*) AS n FROM ${table} WHERE ${live}`;
    this.maxTokenLength = options.maxTokenLength ?? 512;
  }

  presents(req: LegacyRequest): boolean {
    return this.tokenOf(req) !== null;
  }

  async find(req: LegacyRequest): Promise<LegacyCredential | null> {
    const token = this.tokenOf(req);
    if (token === null) return null;
    const [row] = rowsOf<{ user_id: string | null }>(await runStatement(this.options.dataSource, this.findSql, [token]));
    return row?.user_id ? { key: token, userId: row.user_id } : null;
  }

  async retire(credential: LegacyCredential, graceSeconds: number): Promise<void> {
    await runStatement(this.options.dataSource, this.retireSql, [credential.key, graceSeconds]);
  }

  async countWaiting(): Promise<number> {
    const [row] = rowsOf<{ n: string }>(await runStatement(this.options.dataSource, this.countSql, []));
    return Number(row?.n ?? 0);
  }

  /** The bearer token, unless it has this module's shape (`sa_…`) or is too long to be one of the table's. */
  private tokenOf(req: LegacyRequest): string | null {
    const authorization = req.headers.authorization;
    if (typeof authorization !== 'string' || authorization.slice(0, 7).toLowerCase() !== 'bearer ') return null;
    const token = authorization.slice(7).trim();
    if (token === '' || token.length > this.maxTokenLength || token.startsWith('sa_')) return null;
    return token;
  }
}
