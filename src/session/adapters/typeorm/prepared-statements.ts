import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SessionStoreUnavailableError } from '../../errors/session.errors.js';
import { isDatabaseUnavailable, rowsOf } from './run-statement.js';

/** The part of node-postgres' `Pool` this uses: a query given as a named statement. */
interface NamedQueryPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * PostgreSQL's answer when a prepared statement's result columns changed under it (a migration
 * added a column while `RETURNING *` was prepared): SQLSTATE 0A000 with this message.
 */
const RESULT_TYPE_CHANGED = /cached plan must not change result type/i;

/**
 * Runs the statements a request path repeats (validation, rotation, login) as named prepared
 * statements of node-postgres, straight on the DataSource's pool: PostgreSQL parses and plans
 * each once per connection instead of once per call, which was 37% of a rotation's database time
 * (`pgbench` of the rotation statement: 2,077 statements/s unprepared, 3,330 prepared), and the
 * call skips TypeORM's query runner. Each name is the hash of the SQL, so two texts never share
 * one.
 *
 * Falls back to `dataSource.query` (parsed every time, as before) when the DataSource is not on
 * the `pg` driver TypeORM loads itself (PGlite, a driver passed in `driver`), when it is not
 * initialized, or when `prepare` is false (behind PgBouncer older than 1.21 in transaction
 * mode, whose connections do not keep prepared statements). A statement whose result columns a
 * migration changed while it was prepared is prepared again under a new name, once.
 */
export class PreparedStatements {
  /** Part of every name: moves on when a migration changed what a prepared statement returns. */
  private generation = 0;
  private readonly names = new Map<string, string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly prepare = true,
  ) {}

  /**
   * The rows `sql` returns (or changes with `RETURNING`); an unreachable database becomes
   * `SessionStoreUnavailableError` (503).
   */
  async rows<T>(sql: string, params: unknown[]): Promise<T[]> {
    const pool = this.pool();
    try {
      if (!pool) return rowsOf<T>(await this.dataSource.query(sql, params));
      try {
        return (await pool.query({ name: this.nameOf(sql), text: sql, values: params })).rows as T[];
      } catch (error) {
        if (!RESULT_TYPE_CHANGED.test((error as Error)?.message ?? '')) throw error;
        this.generation++;
        this.names.clear();
        return (await pool.query({ name: this.nameOf(sql), text: sql, values: params })).rows as T[];
      }
    } catch (error) {
      throw isDatabaseUnavailable(error) ? new SessionStoreUnavailableError(error) : error;
    }
  }

  private nameOf(sql: string): string {
    let name = this.names.get(sql);
    if (!name) {
      name = `nsm_${this.generation}_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
      this.names.set(sql, name);
    }
    return name;
  }

  /** node-postgres' pool of an initialized DataSource on the `pg` TypeORM loaded, else null. */
  private pool(): NamedQueryPool | null {
    if (!this.prepare || !this.dataSource.isInitialized) return null;
    const options = this.dataSource.options as { type?: string; driver?: unknown; replication?: unknown };
    if (options.type !== 'postgres' || options.driver !== undefined || options.replication !== undefined) return null;
    const master = (this.dataSource.driver as unknown as { master?: Partial<NamedQueryPool> }).master;
    return typeof master?.query === 'function' ? (master as NamedQueryPool) : null;
  }
}
