import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SessionService } from '../session';
import type { UserRolesResponse } from './dto/user-roles.response';

/** The role every admin route needs, which the last user holding it cannot lose. */
export const ADMIN_ROLE = 'admin';

/**
 * Changes a user's roles: in the users table (new logins get them) and in the user's live
 * sessions (`SessionService.changeLiveSessions`: every instance judges the next request by them).
 */
@Injectable()
export class UserRolesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: SessionService,
  ) {}

  /**
   * @param actorId the admin who changes them (for the audit trail)
   * @throws NotFoundException when no user has this id
   * @throws ConflictException when it would take the admin role from the last admin
   */
  async setRoles(userId: string, roles: string[], actorId: string): Promise<UserRolesResponse> {
    const user = await this.dataSource.transaction(async (tx) => {
      // Every admin row locked, in id order: two admins demoting each other at once are
      // serialized, and the second sees that only one admin is left.
      const admins = (await tx.query(`SELECT id FROM users WHERE $1 = ANY(roles) ORDER BY id FOR UPDATE`, [ADMIN_ROLE])) as Array<{ id: string }>;
      if (!roles.includes(ADMIN_ROLE) && admins.length === 1 && admins[0].id === userId) {
        throw new ConflictException('The last admin cannot lose the admin role');
      }
      const [rows] = (await tx.query(`UPDATE users SET roles = $2::text[] WHERE id = $1 RETURNING id, email, roles`, [userId, roles])) as [
        UserRolesResponse[],
        number,
      ];
      return rows[0];
    });
    if (!user) throw new NotFoundException('User not found');
    await this.sessions.changeLiveSessions(userId, { roles: user.roles }, actorId);
    return { id: user.id, email: user.email, roles: user.roles };
  }
}
