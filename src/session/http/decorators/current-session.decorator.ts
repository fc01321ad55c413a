import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { requestSession } from '../request-session.js';
import type { AuthenticatedSession } from '../../session.types.js';

/** The caller, as the session guard authenticated it. */
export interface CurrentUserInfo {
  id: string;
  roles: string[];
}

function sessionOf(context: ExecutionContext): AuthenticatedSession | undefined {
  // In a gateway handler the session is the socket's (attached when its handshake was authenticated).
  const carrier = context.getType() === 'ws' ? context.switchToWs().getClient<object>() : context.switchToHttp().getRequest<object>();
  return requestSession(carrier);
}

/** The `AuthenticatedSession` of the request, or of the socket in a gateway handler (undefined on a public route without a session). */
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
