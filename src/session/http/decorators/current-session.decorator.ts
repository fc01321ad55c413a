import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { requestSession } from '../request-session.js';
import type { AuthenticatedSession } from '../../session.types.js';

/** The caller, as the session guard authenticated it. */
export interface CurrentUserInfo {
  id: string;
  roles: string[];
}

function sessionOf(context: ExecutionContext): AuthenticatedSession | undefined {
  return requestSession(context.switchToHttp().getRequest());
}

/** The `AuthenticatedSession` of the request (undefined on a public route without a session). */
export const CurrentSession = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedSession | undefined => sessionOf(context),
);

/** `{ id, roles }` of the authenticated user (undefined on a public route without a session). */
export const CurrentUser = createParamDecorator(
  (_: unknown, context: ExecutionContext): CurrentUserInfo | undefined => {
    const session = sessionOf(context);
    return session && { id: session.userId, roles: session.roles };
  },
);
