import { ConflictException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { CredentialsVerifier, SessionUser } from '../session';
import { PasswordHasher } from './password-hasher';
import { UserEntity } from './user.entity';

const normalize = (email: string) => email.trim().toLowerCase();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Users of the app, and the `CredentialsVerifier` the session module logs them in with. */
@Injectable()
export class UsersService implements CredentialsVerifier {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly hasher: PasswordHasher,
  ) {}

  /** @throws ConflictException when the email is taken (whatever its case) */
  async register(input: { email: string; password: string; name?: string }): Promise<UserEntity> {
    const passwordHash = await this.hasher.hash(input.password);
    const result = await this.users
      .createQueryBuilder()
      .insert()
      .values({ email: normalize(input.email), passwordHash, name: input.name ?? null, roles: [] })
      .orIgnore()
      .returning(['id', 'email'])
      .execute();
    const row = result.raw[0] as { id: string; email: string } | undefined;
    if (!row) throw new ConflictException('Email already registered');
    return Object.assign(new UserEntity(), row);
  }

  /** Makes sure this admin exists with this password and the `admin` role (idempotent). */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const existing = await this.users.findOneBy({ email: normalize(email) });
    if (!existing) {
      const passwordHash = await this.hasher.hash(password);
      await this.users
        .createQueryBuilder()
        .insert()
        .values({ email: normalize(email), passwordHash, roles: ['admin'] })
        .orIgnore()
        .execute();
      return;
    }
    const update: Partial<UserEntity> = {};
    if (!existing.roles.includes('admin')) update.roles = [...existing.roles, 'admin'];
    if (!(await this.hasher.verify(existing.passwordHash, password))) {
      update.passwordHash = await this.hasher.hash(password);
    }
    if (Object.keys(update).length > 0) await this.users.update({ id: existing.id }, update);
  }

  /**
   * Sets a new password; the caller has checked the current one (`PasswordAttempts.confirm`).
   * @returns false when the user is unknown
   */
  async setPassword(userId: string, newPassword: string): Promise<boolean> {
    if (!UUID.test(userId)) return false;
    const result = await this.users.update({ id: userId }, { passwordHash: await this.hasher.hash(newPassword) });
    return (result.affected ?? 0) > 0;
  }

  async verify(email: string, password: string): Promise<SessionUser | null> {
    const user = await this.users.findOneBy({ email: normalize(email) });
    const ok = await this.hasher.verify(user?.passwordHash ?? null, password);
    return user && ok ? toSessionUser(user) : null;
  }

  /** Ties failed logins to the account in the audit trail (see `CredentialsVerifier.findByEmail`). */
  async findByEmail(email: string): Promise<SessionUser | null> {
    const user = await this.users.findOneBy({ email: normalize(email) });
    return user ? toSessionUser(user) : null;
  }

  async findById(id: string): Promise<SessionUser | null> {
    if (!UUID.test(id)) return null;
    const user = await this.users.findOneBy({ id });
    return user ? toSessionUser(user) : null;
  }
}

function toSessionUser(user: UserEntity): SessionUser {
  return { id: user.id, email: user.email, roles: user.roles };
}
