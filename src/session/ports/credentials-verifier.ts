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
}

/** Injection token of the app's `CredentialsVerifier`. */
export const CREDENTIALS_VERIFIER = Symbol('CREDENTIALS_VERIFIER');
