import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { FRESH_SESSION_KEY, FreshSessionGuard } from '../guards/fresh-session.guard.js';
import { SessionAuthGuard } from '../guards/session-auth.guard.js';

/**
 * The route needs a session whose user logged in (entered credentials) within `seconds`;
 * refreshing does not count. For sensitive actions such as changing a password. Authenticates the
 * request itself (`SessionAuthGuard`), so it works with or without the global guard.
 * @param seconds default 600 (10 minutes)
 */
export const FreshSession = (seconds = 600) =>
  applyDecorators(SetMetadata(FRESH_SESSION_KEY, seconds), UseGuards(SessionAuthGuard, FreshSessionGuard));
