/** Injection token of the options with every default filled in. */
export const RESOLVED_SESSION_OPTIONS = Symbol('RESOLVED_SESSION_OPTIONS');
/** Injection token of the Redis client the module uses (absent without Redis). */
export const SESSION_REDIS = Symbol('SESSION_REDIS');
/** Request property where the guard puts the `AuthenticatedSession`. */
export const REQUEST_SESSION_KEY = 'authSession';
