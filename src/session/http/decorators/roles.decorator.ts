import { SetMetadata } from '@nestjs/common';

export const ROLES_KEY = 'session:roles';

/** The route needs a session whose user has at least one of these roles (else 403). */
export const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);
