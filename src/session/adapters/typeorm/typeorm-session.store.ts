import type { DataSource } from 'typeorm';
import {
  ClientSighting,
  EndedCursor,
  EndedFilter,
  Insertion,
  IssuedBeforeBatch,
  IssuedCursor,
  LiveWindow,
  NewSessionRecord,
  RecentClientsQuery,
  RevocationFilter,
  RevocationReason,
  RevokedAccess,
  Rotation,
  RotationTarget,
  SessionChange,
  SessionPage,
  SessionPageQuery,
  SessionRecord,
  SessionSummary,
} from '../../ports/session-record.js';
import { SessionStore } from '../../ports/session-store.js';
import { PreparedStatements } from './prepared-statements.js';
import { assertTables, rowsOf, runStatement } from './run-statement.js';
import { SessionRow, toSessionRecord } from './session-row.mapper.js';

/** `$n` placeholders for the live-window check: not revoked, not recorded as ended, not expired, not idle. */
const LIVE = (now: string, activeSince: string, alias = '') =>
  `${alias}revoked_at IS NULL AND ${alias}ended_at IS NULL AND ${alias}expires_at > ${now} AND ${alias}last_activity_at > ${activeSince}`;

/**
 * `evictBeyond`: $1 user, $2 keep, $3 now, $4 active since, $5 the id never evicted. The protected
 * session, when it exists, takes one of the `keep` places. Plain FOR UPDATE (not SKIP LOCKED): a
 * concurrent login's eviction waits for ours instead of skipping rows, so together they never
 * leave more than `keep` live sessions.
 */
const EVICT_BEYOND = `UPDATE sessions SET revoked_at = $3, revoked_reason = 'evicted', ended_at = $3, version = version + 1
        WHERE id IN (
          SELECT id FROM sessions
           WHERE user_id = $1 AND ${LIVE('$3', '$4')} AND id IS DISTINCT FROM $5::uuid
           ORDER BY last_activity_at DESC, created_at DESC, id DESC
           OFFSET GREATEST(0, $2::int - (SELECT count(*)::int FROM sessions WHERE id = $5::uuid))
           FOR UPDATE)
          AND revoked_at IS NULL
        RETURNING *`;

/** One earlier client in the history `evictBeyondThenRecentClients` reads (JSON keys kept short). */
interface HistoryRow {
  c: string;
  i: string | null;
  u: string | null;
  d: string | null;
}

/** The partial unique index that keeps one live session per user and device id. */
const DEVICE_UNIQUE_INDEX = 'sessions_user_device_live_key';
/**
 * Runs of the insert when logins with one user and device id race. An attempt fails only because
 * another of them committed in the meantime (and the next attempt ends that one), so n racing
 * logins need at most n attempts; logins are rate-limited, so 20 racing is far past any client.
 */
const DEVICE_INSERT_ATTEMPTS = 20;

/** True when `error` is PostgreSQL's unique violation (23505) of `constraint`. */
function violates(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown; driverError?: { code?: unknown; constraint?: unknown } } | null;
  const source = e?.driverError ?? e;
  return source?.code === '23505' && source.constraint === constraint;
}

/**
 * Sessions in PostgreSQL (or PGlite) through TypeORM. Every write is a single statement, so it
 * is atomic without an explicit transaction, and concurrent rotations of one refresh token are
 * serialized by the row lock of the UPDATE: the loser re-checks `refresh_hash` and matches nothing.
 */
export class TypeOrmSessionStore extends SessionStore {
  /** The statements of the request paths (validation, rotation, login, revocation): prepared once per connection. */
  private readonly prepared: PreparedStatements;

  /**
   * @param options.preparedStatements run the request paths' statements as named prepared
   *   statements (see `PreparedStatements`); false behind PgBouncer older than 1.21 in transaction
   *   mode. @default true
   */
  constructor(
    private readonly dataSource: DataSource,
    options: { preparedStatements?: boolean } = {},
  ) {
    super();
    this.prepared = new PreparedStatements(dataSource, options.preparedStatements ?? true);
  }

  async insert(s: NewSessionRecord): Promise<Insertion> {
    // One statement: end the device's open sessions, then insert (the INSERT reads the count of
    // the ended rows, so it runs after them and the unique index no longer sees them). A
    // concurrent login with the same device id that committed after this statement's snapshot
    // makes the INSERT fail on `sessions_user_device_live_key` instead of leaving two live
    // sessions; run again with a new snapshot, the statement ends that one too.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.insertReplacingDevice(s);
      } catch (error) {
        if (attempt >= DEVICE_INSERT_ATTEMPTS || !violates(error, DEVICE_UNIQUE_INDEX)) throw error;
      }
    }
  }

  private async insertReplacingDevice(s: NewSessionRecord): Promise<Insertion> {
    const rows = await this.prepared.rows<SessionRow & { is_new: boolean }>(
      `WITH replaced AS (
         UPDATE sessions SET revoked_at = $9, revoked_reason = 'replaced', ended_at = $9, version = version + 1
          WHERE $16::varchar IS NOT NULL AND user_id = $2 AND device_id = $16::varchar
            AND revoked_at IS NULL AND ended_at IS NULL
          RETURNING *
       ), inserted AS (
         INSERT INTO sessions (id, user_id, roles, access_hash, refresh_hash, access_expires_at,
           expires_at, absolute_expires_at, created_at, authenticated_at, last_activity_at,
           ip_address, user_agent, device_name, device_type, device_id, data)
         SELECT $1::uuid, $2::varchar, $3::text[], $4::varchar, $5::varchar, $6::timestamptz,
           $7::timestamptz, $8::timestamptz, $9::timestamptz, $10::timestamptz, $11::timestamptz,
           $12::varchar, $13::varchar, $14::varchar, $15::varchar, $16::varchar, $17::jsonb
           FROM (SELECT count(*) FROM replaced) AS after_replaced
         RETURNING *
       )
       SELECT true AS is_new, * FROM inserted
       UNION ALL
       SELECT false AS is_new, * FROM replaced`,
      insertParams(s),
    );
    const session = rows.find((row) => row.is_new);
    if (!session) throw new Error('INSERT INTO sessions returned no row');
    return {
      session: toSessionRecord(session),
      replaced: rows.filter((row) => !row.is_new).map(toSessionRecord),
    };
  }

  async insertIfAbsent(s: NewSessionRecord): Promise<SessionRecord | null> {
    const rows = await this.query(
      `INSERT INTO sessions (id, user_id, roles, access_hash, refresh_hash, access_expires_at,
         expires_at, absolute_expires_at, created_at, authenticated_at, last_activity_at,
         ip_address, user_agent, device_name, device_type, device_id, data)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)
       ON CONFLICT (id) DO NOTHING
       RETURNING *`,
      insertParams(s),
    );
    return rows[0] ?? null;
  }

  async findByAccessHash(accessHash: string): Promise<SessionRecord | null> {
    const rows = await this.query(`SELECT * FROM sessions WHERE access_hash = $1`, [accessHash]);
    return rows[0] ?? null;
  }

  async findById(id: string): Promise<SessionRecord | null> {
    const rows = await this.query(`SELECT * FROM sessions WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async findByRotatedRefreshHash(refreshHash: string): Promise<SessionRecord | null> {
    const rows = await this.query(
      `SELECT s.* FROM session_rotated_refresh_tokens r JOIN sessions s ON s.id = r.session_id
        WHERE r.hash = $1`,
      [refreshHash],
    );
    return rows[0] ?? null;
  }

  async rotate(
    refreshHash: string,
    target: RotationTarget,
    window: LiveWindow,
  ): Promise<Rotation | null> {
    // One UPDATE found by `sessions_refresh_hash_key`: its row lock serializes concurrent
    // rotations of one token, and the loser's re-check of `refresh_hash = $1` on the row the
    // winner wrote matches nothing. `previous_access_hash` is set from the old row, so RETURNING
    // hands back the access hash replaced without a separate locking read.
    const rows = await this.prepared.rows<SessionRow & { replaced_access_hash: string }>(
      `WITH rotated AS (
         UPDATE sessions SET
           previous_refresh_hash = refresh_hash,
           previous_access_hash = access_hash,
           rotated_at = $6,
           rotation_secret = $8,
           access_hash = $2,
           refresh_hash = $3,
           access_expires_at = LEAST($4::timestamptz, GREATEST(expires_at, $5::timestamptz), absolute_expires_at),
           expires_at = LEAST(GREATEST(expires_at, $5::timestamptz), absolute_expires_at),
           last_activity_at = GREATEST(last_activity_at, $6),
           version = version + 1
         WHERE refresh_hash = $1 AND ${LIVE('$6', '$7')}
         RETURNING *, previous_access_hash AS replaced_access_hash
       ), remembered AS (
         INSERT INTO session_rotated_refresh_tokens (hash, session_id, rotated_at, access_hash)
         SELECT $1, id, $6, replaced_access_hash FROM rotated
         ON CONFLICT (hash) DO NOTHING
       )
       SELECT * FROM rotated`,
      [
        refreshHash,
        target.accessHash,
        target.refreshHash,
        target.accessExpiresAt,
        target.expiresAt,
        window.now,
        window.activeSince,
        target.rotationSecret,
      ],
    );
    if (rows.length === 0) return null;
    return { session: toSessionRecord(rows[0]), replacedAccessHash: rows[0].replaced_access_hash };
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.run(
      `UPDATE sessions SET last_activity_at = GREATEST(last_activity_at, $2)
        WHERE id = $1 AND revoked_at IS NULL AND ended_at IS NULL AND last_activity_at < $2`,
      [id, at],
    );
  }

  async touchMany(entries: ReadonlyArray<{ id: string; at: Date }>): Promise<void> {
    if (entries.length === 0) return;
    await this.prepared.rows(
      `UPDATE sessions s SET last_activity_at = v.at
         FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)
        WHERE s.id = v.id AND s.revoked_at IS NULL AND s.ended_at IS NULL AND s.last_activity_at < v.at`,
      [entries.map((e) => e.id), entries.map((e) => e.at.toISOString())],
    );
  }

  async extend(id: string, expiresAt: Date, window: LiveWindow): Promise<SessionRecord | null> {
    const rows = await this.query(
      `UPDATE sessions SET
         expires_at = LEAST(absolute_expires_at, GREATEST(expires_at, $2)),
         version = version + 1
       WHERE id = $1 AND ${LIVE('$3', '$4')}
       RETURNING *`,
      [id, expiresAt, window.now, window.activeSince],
    );
    return rows[0] ?? null;
  }

  async changeLive(userId: string, change: SessionChange, window: LiveWindow): Promise<SessionRecord[]> {
    const params: unknown[] = [userId, window.now, window.activeSince];
    const set = ['version = version + 1'];
    if (change.roles !== undefined) set.push(`roles = $${params.push(change.roles)}::text[]`);
    if (change.data !== undefined) set.push(`data = $${params.push(change.data === null ? null : JSON.stringify(change.data))}::jsonb`);
    return this.query(`UPDATE sessions SET ${set.join(', ')} WHERE user_id = $1 AND ${LIVE('$2', '$3')} RETURNING *`, params);
  }

  async revoke(
    filter: RevocationFilter,
    reason: RevocationReason,
    window: LiveWindow,
  ): Promise<SessionRecord[]> {
    const params: unknown[] = [reason, window.now, window.activeSince];
    const where = [LIVE('$2', '$3')];
    if (filter.id !== undefined) where.push(`id = $${params.push(filter.id)}`);
    if (filter.userId !== undefined) where.push(`user_id = $${params.push(filter.userId)}`);
    if (filter.exceptId !== undefined) where.push(`id <> $${params.push(filter.exceptId)}`);
    if (filter.accessHash !== undefined) where.push(`access_hash = $${params.push(filter.accessHash)}`);
    if (filter.refreshHash !== undefined) where.push(`refresh_hash = $${params.push(filter.refreshHash)}`);
    return this.query(
      `UPDATE sessions SET revoked_at = $2, revoked_reason = $1, ended_at = $2, version = version + 1
        WHERE ${where.join(' AND ')}
        RETURNING *`,
      params,
    );
  }

  async evictBeyond(
    userId: string,
    keep: number,
    window: LiveWindow,
    keepId?: string,
  ): Promise<SessionRecord[]> {
    return this.query(EVICT_BEYOND, [userId, keep, window.now, window.activeSince, keepId ?? null]);
  }

  /**
   * `evictBeyond`'s UPDATE and `recentClients`' SELECT (the same index range) in one statement, run
   * after the insert committed as `evictBeyond` alone would be: one round trip per login instead
   * of two. The history comes back as one JSON array in an extra row.
   */
  override async evictBeyondThenRecentClients(
    userId: string,
    keep: number,
    window: LiveWindow,
    keepId: string | undefined,
    recent: RecentClientsQuery | null,
  ): Promise<{ evicted: SessionRecord[]; recentClients: ClientSighting[] | null }> {
    if (recent === null || recent.userId !== userId) return super.evictBeyondThenRecentClients(userId, keep, window, keepId, recent);
    const rows = await this.prepared.rows<SessionRow & { is_history: boolean; history: HistoryRow[] | string | null }>(
      `WITH evicted AS (${EVICT_BEYOND}), recent AS (
         SELECT created_at, ip_address, user_agent, device_id FROM sessions
          WHERE user_id = $1 AND created_at >= $6 AND id IS DISTINCT FROM $8::uuid
          ORDER BY created_at DESC LIMIT $7
       )
       SELECT false AS is_history, evicted.*, NULL::json AS history FROM evicted
       UNION ALL
       SELECT true, (NULL::sessions).*,
         json_agg(json_build_object('c', created_at, 'i', ip_address, 'u', user_agent, 'd', device_id) ORDER BY created_at DESC)
         FROM recent`,
      [userId, keep, window.now, window.activeSince, keepId ?? null, recent.since, recent.limit, recent.exceptId ?? null],
    );
    const evicted: SessionRecord[] = [];
    let history: HistoryRow[] = [];
    for (const row of rows) {
      if (!row.is_history) evicted.push(toSessionRecord(row));
      else if (row.history !== null) history = typeof row.history === 'string' ? (JSON.parse(row.history) as HistoryRow[]) : row.history;
    }
    return {
      evicted,
      recentClients: history.map((h) => ({ createdAt: new Date(h.c), ipAddress: h.i, userAgent: h.u, deviceId: h.d })),
    };
  }

  async endedSince(filter: EndedFilter, since: Date, limit: number, after?: EndedCursor): Promise<SessionRecord[]> {
    const params: unknown[] = [since, limit];
    const where = ['ended_at >= $1']; // the ended_at index's range
    if (after !== undefined) where.push(`(ended_at, id) > ($${params.push(after.endedAt)}::timestamptz, $${params.push(after.id)}::uuid)`);
    if (filter.userId !== undefined) where.push(`user_id = $${params.push(filter.userId)}`);
    if (filter.createdBefore !== undefined) where.push(`created_at < $${params.push(filter.createdBefore)}`);
    return this.query(`SELECT * FROM sessions WHERE ${where.join(' AND ')} ORDER BY ended_at, id LIMIT $2`, params);
  }

  async endIssuedBefore(
    before: Date,
    at: Date,
    reason: RevocationReason,
    limit: number,
    after?: IssuedCursor,
  ): Promise<IssuedBeforeBatch> {
    // Two statements: the batch's keys by one range of `sessions_created_at_idx` (the row
    // comparison becomes `created_at >= …` on it, so each batch starts where the last stopped),
    // then the UPDATE by primary key, which re-checks under each row lock. Rows a concurrent
    // revocation or sweep ended in between are skipped; the cursor is the batch's last key either
    // way, so none is missed and a short batch really means the end.
    const params: unknown[] = [before, limit];
    const keyset = after ? `AND (created_at, id) > ($${params.push(after.createdAt)}::timestamptz, $${params.push(after.id)}::uuid)` : '';
    const keys = rowsOf<{ id: string; created_at: Date | string }>(await this.run(
      `SELECT id, created_at FROM sessions
        WHERE created_at < $1 AND revoked_at IS NULL AND ended_at IS NULL ${keyset}
        ORDER BY created_at, id LIMIT $2`,
      params,
    ));
    if (keys.length === 0) return { ended: [], next: null };
    const ended = await this.query(
      `WITH ended AS (
         UPDATE sessions SET revoked_at = $2, revoked_reason = $3, ended_at = $2, version = version + 1
          WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL AND ended_at IS NULL
          RETURNING *)
       SELECT * FROM ended ORDER BY created_at, id`,
      [keys.map((k) => k.id), at, reason],
    );
    const last = keys[keys.length - 1];
    return { ended, next: keys.length < limit ? null : { createdAt: new Date(last.created_at), id: last.id } };
  }

  async recentClients(query: RecentClientsQuery): Promise<ClientSighting[]> {
    // A backward range scan of `sessions_user_created_idx` that stops after `limit` rows.
    const rows = rowsOf<{ created_at: Date | string; ip_address: string | null; user_agent: string | null; device_id: string | null }>(
      await this.run(
        `SELECT created_at, ip_address, user_agent, device_id FROM sessions
          WHERE user_id = $1 AND created_at >= $2 AND id IS DISTINCT FROM $4::uuid
          ORDER BY created_at DESC LIMIT $3`,
        [query.userId, query.since, query.limit, query.exceptId ?? null],
      ),
    );
    return rows.map((row) => ({
      createdAt: new Date(row.created_at),
      ipAddress: row.ip_address,
      userAgent: row.user_agent,
      deviceId: row.device_id,
    }));
  }

  async listLive(userId: string, window: LiveWindow): Promise<SessionRecord[]> {
    return this.query(
      `SELECT * FROM sessions WHERE user_id = $1 AND ${LIVE('$2', '$3')}
        ORDER BY last_activity_at DESC, created_at DESC, id DESC`,
      [userId, window.now, window.activeSince],
    );
  }

  async countLive(userId: string | undefined, window: LiveWindow): Promise<number> {
    // Every user: an index-only scan of `sessions_open_activity_idx`.
    const [row] = await this.run(
      userId === undefined
        ? `SELECT count(*)::int AS n FROM sessions WHERE ${LIVE('$1', '$2')}`
        : `SELECT count(*)::int AS n FROM sessions WHERE user_id = $3 AND ${LIVE('$1', '$2')}`,
      userId === undefined ? [window.now, window.activeSince] : [window.now, window.activeSince, userId],
    );
    return Number(row.n);
  }

  async pageLive(query: SessionPageQuery, window: LiveWindow): Promise<SessionPage> {
    const params: unknown[] = [window.now, window.activeSince];
    const where = [LIVE('$1', '$2')];
    if (query.userId !== undefined) where.push(`user_id = $${params.push(query.userId)}`);
    const filter = where.join(' AND ');
    const [{ n }] = await this.run(
      `SELECT count(*)::int AS n FROM sessions WHERE ${filter}`,
      params,
    );
    const items = await this.query(
      `SELECT * FROM sessions WHERE ${filter}
        ORDER BY last_activity_at DESC, created_at DESC, id DESC
        LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, query.limit, query.offset],
    );
    return { items, total: Number(n) };
  }

  async deleteEnded(before: Date, idleTtlSeconds: number, batchSize: number): Promise<number> {
    const idleBefore = new Date(before.getTime() - idleTtlSeconds * 1000);
    // One scan that stops at `batchSize` matches (SKIP LOCKED: never waits behind a live request),
    // over indexes no rotation or touch of a live session enters but the two partial "not yet
    // ended" ones: ended and revoked sessions by `ended_at` and `revoked_at`, sessions whose time
    // ran out before the sweep recorded it by the partial indexes of open sessions.
    const result = await this.run(
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions
          WHERE revoked_at < $1 OR ended_at < $1
             OR (ended_at IS NULL AND revoked_at IS NULL AND (expires_at < $1 OR last_activity_at < $2))
          LIMIT $3
          FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [before, idleBefore, batchSize],
    );
    return rowsOf(result).length;
  }

  async deleteRotatedBefore(before: Date, batchSize: number): Promise<number> {
    // The oldest `batchSize` rows, from the low end of `session_rotated_refresh_tokens_rotated_at_idx`,
    // locked (SKIP LOCKED: a row the deletion of its session holds is left to that), then deleted
    // by their row addresses (a TID scan: no join the planner could turn into a scan of the
    // table). ORDER BY keeps the plan on the index when most rows match (the first passes after
    // the upgrade): without it the planner expects a LIMIT over a sequential scan to end early,
    // and each batch would read past the rows the last one left. Rotations insert at the other
    // end of the index.
    const [row] = rowsOf<{ n: number }>(await this.run(
      `WITH deleted AS (
         DELETE FROM session_rotated_refresh_tokens WHERE ctid = ANY (ARRAY(
           SELECT ctid FROM session_rotated_refresh_tokens
            WHERE rotated_at < $1
            ORDER BY rotated_at
            LIMIT $2
            FOR UPDATE SKIP LOCKED))
         RETURNING 1
       )
       SELECT count(*)::int AS n FROM deleted`,
      [before, batchSize],
    ));
    return Number(row.n);
  }

  async markExpired(window: LiveWindow, idleTtlSeconds: number, batchSize: number): Promise<SessionRecord[]> {
    // Two range scans of the small "not yet ended" indexes; the outer re-check (under the row
    // lock) makes a concurrent sweep or revocation win cleanly: each session is marked once.
    return this.query(
      `UPDATE sessions s SET
         ended_at = LEAST(s.expires_at, s.last_activity_at + $3::int * interval '1 second'),
         version = s.version + 1
        WHERE s.id IN (
          (SELECT id FROM sessions
            WHERE ended_at IS NULL AND revoked_at IS NULL AND expires_at <= $1
            LIMIT $4)
          UNION
          (SELECT id FROM sessions
            WHERE ended_at IS NULL AND revoked_at IS NULL AND last_activity_at <= $2
            LIMIT $4)
          LIMIT $4)
          AND s.ended_at IS NULL AND s.revoked_at IS NULL
          AND (s.expires_at <= $1 OR s.last_activity_at <= $2)
        RETURNING s.*`,
      [window.now, window.activeSince, idleTtlSeconds, batchSize],
    );
  }

  async revokedAccessSince(since: Date, limit: number, after?: { at: Date; accessHash: string }): Promise<RevokedAccess[]> {
    // Two index ranges (ended_at; rotated_at, access_hash) merged by the planner, then the page.
    const rows = rowsOf<{ user_id: string; access_hash: string; at: Date }>(await this.run(
      `SELECT user_id, access_hash, at FROM (
         SELECT user_id, access_hash, ended_at AS at FROM sessions WHERE ended_at >= $1
         UNION ALL
         SELECT s.user_id, r.access_hash, r.rotated_at AS at
           FROM session_rotated_refresh_tokens r JOIN sessions s ON s.id = r.session_id
          WHERE r.rotated_at >= $1 AND r.access_hash IS NOT NULL
       ) AS revoked
       WHERE ($3::timestamptz IS NULL OR (at, access_hash) > ($3::timestamptz, $4::varchar))
       ORDER BY at, access_hash LIMIT $2`,
      [since, limit, after?.at ?? null, after?.accessHash ?? null],
    ));
    return rows.map((row) => ({
      userId: row.user_id,
      accessHash: row.access_hash,
      at: new Date(row.at),
    }));
  }

  async summarize(window: LiveWindow, since: Date): Promise<SessionSummary> {
    const [row] = await this.run(
      `SELECT
         (SELECT count(*) FROM sessions WHERE ${LIVE('$1', '$2')}) AS active,
         (SELECT count(*) FROM sessions WHERE created_at > $3) AS created,
         (SELECT count(*) FROM sessions WHERE revoked_at > $3) AS revoked,
         ended.expired, ended.n AS ended, ended.seconds
       FROM (SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS expired, count(*) AS n,
                    COALESCE(sum(EXTRACT(EPOCH FROM ended_at - created_at)), 0) AS seconds
               FROM sessions WHERE ended_at > $3) AS ended`,
      [window.now, window.activeSince, since],
    );
    return {
      active: Number(row.active),
      createdSince: Number(row.created),
      revokedSince: Number(row.revoked),
      expiredSince: Number(row.expired),
      endedSince: Number(row.ended),
      endedLifetimeSeconds: Number(row.seconds),
    };
  }

  async recordConcurrency(at: Date, active: number, keepSince: Date): Promise<void> {
    await this.run(
      `INSERT INTO session_concurrency_samples (at, active) VALUES ($1, $2)
       ON CONFLICT (at) DO UPDATE SET active = GREATEST(session_concurrency_samples.active, EXCLUDED.active)`,
      [at, active],
    );
    await this.run(`DELETE FROM session_concurrency_samples WHERE at < $1`, [keepSince]);
  }

  async peakConcurrency(since: Date): Promise<number> {
    const [row] = await this.run(
      `SELECT COALESCE(max(active), 0) AS peak FROM session_concurrency_samples WHERE at >= $1`,
      [since],
    );
    return Number(row.peak);
  }

  /** Checks at start that the migrations ran (see `assertTables`). */
  start(): Promise<void> {
    return assertTables(this.dataSource, ['sessions', 'session_rotated_refresh_tokens', 'session_concurrency_samples'], 'TypeOrmSessionStore');
  }

  async ping(): Promise<boolean> {
    try {
      await this.dataSource.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Runs a statement that returns session rows, prepared (see `PreparedStatements`). */
  private async query(sql: string, params: unknown[]): Promise<SessionRecord[]> {
    return (await this.prepared.rows<SessionRow>(sql, params)).map(toSessionRecord);
  }

  /** Runs SQL; an unreachable database becomes `SessionStoreUnavailableError` (503). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private run(sql: string, params: unknown[] = []): Promise<any> {
    return runStatement(this.dataSource, sql, params);
  }
}

/** The parameters of an INSERT of `s`, in the column order both inserts use. */
function insertParams(s: NewSessionRecord): unknown[] {
  return [
    s.id,
    s.userId,
    s.roles,
    s.accessHash,
    s.refreshHash,
    s.accessExpiresAt,
    s.expiresAt,
    s.absoluteExpiresAt,
    s.createdAt,
    s.authenticatedAt,
    s.lastActivityAt,
    s.ipAddress,
    s.userAgent,
    s.deviceName,
    s.deviceType,
    s.deviceId,
    s.data === null ? null : JSON.stringify(s.data),
  ];
}
