/** Injection token of the options with every default filled in. */
export const RESOLVED_SESSION_OPTIONS = Symbol('RESOLVED_SESSION_OPTIONS');
/** Injection token of the Redis client the module uses (absent without Redis). */
export const SESSION_REDIS = Symbol('SESSION_REDIS');
/** Request property where the guard puts the `AuthenticatedSession`. */
export const REQUEST_SESSION_KEY = 'authSession';
/** Injection token of the lock the expiry sweep runs under (separate from the cleanup's). */
export const SESSION_SWEEP_LOCK = Symbol('SESSION_SWEEP_LOCK');
