import type { DataSource } from 'typeorm';
import { AuditLog, AuditPage, AuditQuery, fitForAudit, type UserCount } from '../../ports/audit-log.js';
import type { SessionEvent, SessionEventType } from '../../session.events.js';
import { assertTables, runStatement, rowsOf } from './run-statement.js';

interface AuditRow {
  type: SessionEventType;
  at: Date | string;
  user_id: string | null;
  session_id: string | null;
  actor_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  detail: string | null;
}

const toEvent = (r: AuditRow): SessionEvent => ({
  type: r.type,
  at: r.at instanceof Date ? r.at : new Date(r.at),
  userId: r.user_id,
  sessionId: r.session_id,
  actorId: r.actor_id,
  ipAddress: r.ip_address,
  userAgent: r.user_agent,
  detail: r.detail,
});

/**
 * The audit trail in `session_audit` (PostgreSQL or PGlite). A batch is one INSERT over
 * `unnest` arrays; pages and counts read the `(user_id, at)`, `(type, at)` and `(at)` indexes.
 */
export class TypeOrmAuditLog extends AuditLog {
  constructor(private readonly dataSource: DataSource) {
    super();
  }
  /** Checks at start that the migrations ran (see `assertTables`). */
  start(): Promise<void> {
    return assertTables(this.dataSource, ['session_audit'], 'TypeOrmAuditLog');
  }


  async append(events: readonly SessionEvent[]): Promise<void> {
    if (events.length === 0) return;
    const fitted = events.map(fitForAudit);
    const column = <K extends keyof SessionEvent>(key: K) => fitted.map((e) => e[key]);
    await runStatement(
      this.dataSource,
      `INSERT INTO session_audit (type, at, user_id, session_id, actor_id, ip_address, user_agent, detail)
       SELECT * FROM unnest($1::varchar[], $2::timestamptz[], $3::varchar[], $4::uuid[], $5::varchar[],
                            $6::varchar[], $7::varchar[], $8::varchar[])`,
      [
        column('type'),
        fitted.map((e) => e.at.toISOString()),
        column('userId'),
        column('sessionId'),
        column('actorId'),
        column('ipAddress'),
        column('userAgent'),
        column('detail'),
      ],
    );
  }

  async page(query: AuditQuery): Promise<AuditPage> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.userId !== undefined) where.push(`user_id = $${params.push(query.userId)}`);
    if (query.type !== undefined) where.push(`type = $${params.push(query.type)}`);
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const [{ n }] = rowsOf<{ n: string }>(
      await runStatement(this.dataSource, `SELECT count(*) AS n FROM session_audit ${filter}`, params),
    );
    const rows = rowsOf<AuditRow>(
      await runStatement(
        this.dataSource,
        `SELECT type, at, user_id, session_id, actor_id, ip_address, user_agent, detail FROM session_audit ${filter}
          ORDER BY at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, query.limit, query.offset],
      ),
    );
    return { items: rows.map(toEvent), total: Number(n) };
  }

  async countSince(types: readonly SessionEventType[], since: Date): Promise<Record<SessionEventType, number>> {
    const counts = Object.fromEntries(types.map((t) => [t, 0])) as Record<SessionEventType, number>;
    const rows = rowsOf<{ type: SessionEventType; n: string }>(
      await runStatement(
        this.dataSource,
        `SELECT type, count(*) AS n FROM session_audit WHERE type = ANY($1::varchar[]) AND at > $2 GROUP BY type`,
        [[...types], since],
      ),
    );
    for (const row of rows) counts[row.type] = Number(row.n);
    return counts;
  }

  /** A range of the `(type, at)` index, the detail checked on the rows it holds. */
  async countWithDetailSince(type: SessionEventType, detailPrefix: string, since: Date): Promise<number> {
    const [row] = rowsOf<{ n: string }>(
      await runStatement(
        this.dataSource,
        `SELECT count(*) AS n FROM session_audit WHERE type = $1 AND at > $2 AND starts_with(detail, $3)`,
        [type, since, detailPrefix],
      ),
    );
    return Number(row?.n ?? 0);
  }

  /** A range of the `(type, at)` index, grouped by user. */
  async countByUserSince(type: SessionEventType, since: Date, limit: number): Promise<UserCount[]> {
    const rows = rowsOf<{ user_id: string; n: string }>(
      await runStatement(
        this.dataSource,
        `SELECT user_id, count(*) AS n FROM session_audit WHERE type = $1 AND at > $2 AND user_id IS NOT NULL
          GROUP BY user_id ORDER BY count(*) DESC, user_id COLLATE "C" LIMIT $3`,
        [type, since, limit],
      ),
    );
    return rows.map((row) => ({ userId: row.user_id, count: Number(row.n) }));
  }

  async deleteBefore(before: Date, batchSize: number): Promise<number> {
    const result = await runStatement(
      this.dataSource,
      `DELETE FROM session_audit WHERE id IN (SELECT id FROM session_audit WHERE at < $1 LIMIT $2) RETURNING id`,
      [before, batchSize],
    );
    return rowsOf(result).length;
  }
}
