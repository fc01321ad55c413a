import { SetMetadata } from '@nestjs/common';

export const LOGIN_THROTTLE_KEY = 'session:loginThrottle';

/** Marks a route that checks a password (`@ChecksPassword()`): its login-limit count is shared. */
export const PASSWORD_CHECK_KEY = 'session:passwordCheck';

/** Name of the module's throttler for `@LoginThrottle()` routes, counted exactly on every hit. */
export const LOGIN_THROTTLER = 'login';

/** Counts the route against the login rate limit (`loginRateLimit`) instead of the default one. */
export const LoginThrottle = () => SetMetadata(LOGIN_THROTTLE_KEY, true);
