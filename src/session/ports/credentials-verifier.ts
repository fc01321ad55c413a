/** The user a session belongs to, as the module sees it. */
export interface SessionUser {
  id: string;
  email: string;
  roles: string[];
}

/**
 * What the host app supplies so the module can log users in without knowing how they are
 * stored. Implementations should take about the same time for an unknown email as for a
 * wrong password (hash a dummy password), so timing does not reveal which accounts exist.
 */
export interface CredentialsVerifier {
  /**
   * The user with this email and password, or null when either is wrong. `email` arrives as
   * `normalizeEmail` gives it (NFKC, lower-cased, trimmed): store addresses in that form.
   */
  verify(email: string, password: string): Promise<SessionUser | null>;

  /** The user with this id, or null when it no longer exists. */
  findById(id: string): Promise<SessionUser | null>;

  /**
   * The user with this email, or null. Optional: with it, a failed login against an existing
   * account is recorded with that account's id (`login_failed` in the audit trail, the per-account
   * counts of the statistics); it is called on every failed login, known account or not, so it
   * reveals nothing by its timing. Without it, those entries have no user id. It may answer at
   * once or with a promise (an app's existing lookup by email fits as it is).
   */
  findByEmail?(email: string): Promise<SessionUser | null> | SessionUser | null;
}

/** Injection token of the app's `CredentialsVerifier`. */
export const CREDENTIALS_VERIFIER = Symbol('CREDENTIALS_VERIFIER');
