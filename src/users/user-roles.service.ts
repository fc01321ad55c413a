import { ConflictException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
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
   * This instance's changes, one at a time (see `setRolesNow`): a waiting change holds no
   * database connection, so the pool never fills with changes waiting for the one that holds the
   * lock and needs a second connection to write the sessions.
   */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * @param actorId the admin who changes them (for the audit trail); must still be an admin in
   *   the users table when the change runs
   * @throws ForbiddenException when the actor lost the admin role since its request was let in
   * @throws NotFoundException when no user has this id
   * @throws ConflictException when it would take the admin role from the last admin
   */
  setRoles(userId: string, roles: string[], actorId: string): Promise<UserRolesResponse> {
    const run = this.queue.then(() => this.setRolesNow(userId, roles, actorId));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async setRolesNow(userId: string, roles: string[], actorId: string): Promise<UserRolesResponse> {
    const user = await this.dataSource.transaction(async (tx) => {
      // Every admin row locked, in id order: two admins demoting each other at once are
      // serialized, and the second sees that only one admin is left.
      const admins = (await tx.query(`SELECT id FROM users WHERE $1 = ANY(roles) ORDER BY id FOR UPDATE`, [ADMIN_ROLE])) as Array<{ id: string }>;
      // The guard judged the actor by its session, which a demotion committed a moment ago has
      // not reached yet: a demoted admin's request racing its demotion must not undo it.
      if (!admins.some((admin) => admin.id === actorId)) throw new ForbiddenException('Insufficient role');
      if (!roles.includes(ADMIN_ROLE) && admins.length === 1 && admins[0].id === userId) {
        throw new ConflictException('The last admin cannot lose the admin role');
      }
      const [rows] = (await tx.query(`UPDATE users SET roles = $2::text[] WHERE id = $1 RETURNING id, email, roles`, [userId, roles])) as [
        UserRolesResponse[],
        number,
      ];
      if (!rows[0]) throw new NotFoundException('User not found');
      // Written to the live sessions while the rows are locked: two changes of one user at once
      // reach the sessions in the order they reached the users table (after the commit, the
      // later one's sessions could be overwritten by the earlier one's).
      await this.sessions.changeLiveSessions(userId, { roles: rows[0].roles }, actorId);
      return rows[0];
    });
    return { id: user.id, email: user.email, roles: user.roles };
  }
}
