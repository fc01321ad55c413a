/** Injection token of the options with every default filled in. */
export const RESOLVED_SESSION_OPTIONS = Symbol('RESOLVED_SESSION_OPTIONS');
/** Injection token of the module's extras (`ResolvedSessionExtras`), as `forRoot` received them. */
export const SESSION_EXTRAS = Symbol('SESSION_EXTRAS');
/** Injection token of the `@nestjs/throttler` options of the module's own throttler (never the app's). */
export const SESSION_THROTTLER_OPTIONS = Symbol('SESSION_THROTTLER_OPTIONS');
/** Injection token of the `@nestjs/throttler` options of the per-user throttler (`SessionUserThrottlerGuard`). */
export const SESSION_USER_THROTTLER_OPTIONS = Symbol('SESSION_USER_THROTTLER_OPTIONS');
/** Injection token of the storage of the module's own throttler (never the app's). */
export const SESSION_THROTTLER_STORAGE = Symbol('SESSION_THROTTLER_STORAGE');
