/** A request as a legacy source reads it (Express or Fastify). */
export interface LegacyRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  cookies?: Record<string, string>;
}

/** A live session of the system being replaced, as a source found it. */
export interface LegacyCredential {
  /**
   * What identifies the legacy session within its source (the express-session Redis key, the
   * token's row): parallel upgrades of one credential end with one session, and `retire` finds
   * it by this. A secret as the credential is: never logged, never stored.
   */
  key: string;
  /** Whose session it is (the host app's user id). */
  userId: string;
}

/**
 * A session store of the system an app moves away from, read so its live sessions become
 * sessions of this module on first use instead of logging everyone out at the deploy.
 *
 * Adapters: `ExpressSessionLegacySource` (express-session + connect-redis: a signed cookie),
 * `SqlTableLegacySource` (a table with a raw token column: a bearer header).
 */
export abstract class LegacySessionSource {
  /** Shown in the audit detail, the metrics and the logs (`express-session`, `sql-table`). */
  abstract readonly name: string;

  /**
   * How the client presents the credential. A `cookie` is sent by the browser on its own, so a
   * cross-site form could use it: only safe methods (GET, HEAD, OPTIONS) upgrade. A `bearer`
   * header is set by the client's own code: any method upgrades.
   */
  abstract readonly presentedAs: 'cookie' | 'bearer';

  /** Whether the request carries something this source would read (a cheap look, no I/O). */
  abstract presents(req: LegacyRequest): boolean;

  /**
   * The live legacy session the request proves, or null: nothing presented, a bad signature,
   * unknown, expired, or without a user. Never throws for what the client sent.
   */
  abstract find(req: LegacyRequest): Promise<LegacyCredential | null>;

  /**
   * The credential was upgraded: it stops working `graceSeconds` from now (parallel requests
   * that carry it meanwhile still upgrade, to the same session). Idempotent.
   */
  abstract retire(credential: LegacyCredential, graceSeconds: number): Promise<void>;

  /** How many legacy sessions are still waiting to be upgraded (for `sessions:legacy-report`). */
  abstract countWaiting(): Promise<number>;

  /** Once, before the app serves requests (e.g. connect). */
  start?(): void | Promise<void>;

  /** Once, when the app shuts down: close what the source opened (never a client the app handed it). */
  close?(): void | Promise<void>;
}
