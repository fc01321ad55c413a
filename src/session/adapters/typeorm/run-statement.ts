import type { DataSource } from 'typeorm';
import { SessionConfigurationError } from '../../errors/session-configuration.error.js';
import { SessionStoreUnavailableError } from '../../errors/session.errors.js';

/** Runs one SQL statement; an unreachable database becomes `SessionStoreUnavailableError` (503). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function runStatement(dataSource: DataSource, sql: string, params: unknown[] = []): Promise<any> {
  try {
    return await dataSource.query(sql, params);
  } catch (error) {
    throw isDatabaseUnavailable(error) ? new SessionStoreUnavailableError(error) : error;
  }
}

/**
 * TypeORM's postgres driver returns `[rows, affected]` for UPDATE/DELETE and plain rows for
 * SELECT/INSERT; this reads both.
 */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}

/** Socket errors of a database that cannot be reached. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * PostgreSQL's: connection exceptions (08…), insufficient resources such as too many connections
 * (53…), the server shutting down or starting (57P…), a statement cancelled by its timeout (57014).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P)|^57014$/;
/** What `pg` says when the connection broke or could not be made in time. */
const UNAVAILABLE_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|connection timeout|query read timeout|the database system is (starting up|shutting down)/i;

/**
 * True when `error` says the database cannot be reached or cannot serve now — a short outage a
 * client may retry (503) — and false for anything else: a wrong query, a constraint, a bug, a
 * DataSource that was never initialized. Works on `pg` and TypeORM errors alike.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown; message?: unknown }; message?: unknown } | null;
  const code = e?.driverError?.code ?? e?.code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  const message = e?.driverError?.message ?? e?.message;
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

/**
 * Checks at start that the migrations made these tables, so a DataSource without
 * `SESSION_MIGRATIONS` stops the start with the fix instead of failing the first login. A
 * database that cannot be reached now is left for later (the requests will answer 503).
 * @throws SessionConfigurationError naming the missing tables
 */
export async function assertTables(dataSource: DataSource, tables: readonly string[], adapter: string): Promise<void> {
  let found: Array<{ name: string; present: boolean }>;
  try {
    found = rowsOf(await dataSource.query('SELECT name, to_regclass(name) IS NOT NULL AS present FROM unnest($1::text[]) AS name', [tables]));
  } catch (error) {
    if (isDatabaseUnavailable(error)) return;
    throw error;
  }
  const missing = found.filter((row) => !row.present).map((row) => row.name);
  if (missing.length > 0) {
    throw new SessionConfigurationError(
      `${adapter} needs the table(s) ${missing.join(', ')}, which the database does not have: add SESSION_MIGRATIONS to the ` +
        "DataSource's migrations and run them (migrationsRun: true, or typeorm migration:run). Never synchronize.",
    );
  }
}
