import { DataSource, QueryFailedError } from 'typeorm';
import { SessionStoreUnavailableError } from '../../errors/session.errors.js';

/** Runs one SQL statement; an unreachable database becomes `SessionStoreUnavailableError` (503). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function runStatement(dataSource: DataSource, sql: string, params: unknown[] = []): Promise<any> {
  try {
    return await dataSource.query(sql, params);
  } catch (error) {
    throw isUnavailable(error) ? new SessionStoreUnavailableError(error) : error;
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

/** Connection-level failures (refused, reset, timed out, server shutting down), not SQL bugs. */
function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } })?.driverError?.code ??
    (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^(08|57P|53)/.test(code)) return true;
  if (error instanceof QueryFailedError) return false;
  return true;
}
