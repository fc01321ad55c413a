import { BadRequestException, ConflictException, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { normalizeEmail, type CredentialsVerifier, type SessionUser } from '../session';
import { emailSkeleton } from './email-skeleton';
import { PasswordHasher } from './password-hasher';
import { UserEntity } from './user.entity';

/**
 * PostgreSQL's answers to a value that does not fit: too long (22001), not representable (22021),
 * refused by a check (23514). Validation refuses all of these first; these codes are the second line.
 */
const VALUE_REFUSED = new Set(['22001', '22021', '23514']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Users of the app, and the `CredentialsVerifier` the session module logs them in with. */
@Injectable()
export class UsersService implements CredentialsVerifier {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly hasher: PasswordHasher,
  ) {}

  /**
   * @param input.email as validated: normalized (`normalizeEmail`), at most 254 characters
   * @throws ConflictException when the email is taken, whatever its case or width, or looks like
   *   a registered one (same skeleton): one answer for both, decided by the unique indexes
   */
  async register(input: { email: string; password: string; name?: string }): Promise<UserEntity> {
    const passwordHash = await this.hasher.hash(input.password);
    const row = await this.insert({ email: input.email, passwordHash, name: input.name ?? null, roles: [] });
    if (!row) throw new ConflictException('Email already registered');
    return Object.assign(new UserEntity(), row);
  }

  /**
   * Makes sure this admin exists with this password and the `admin` role (idempotent).
   * @returns false when the address looks like another account's (that account is left alone)
   */
  async ensureAdmin(email: string, password: string): Promise<boolean> {
    const existing = await this.users.findOneBy({ email: normalizeEmail(email) });
    if (!existing) {
      const passwordHash = await this.hasher.hash(password);
      // Ignored when another instance seeded it meanwhile, or when a look-alike account exists.
      await this.insert({ email, passwordHash, name: null, roles: ['admin'] });
      return this.users.existsBy({ email: normalizeEmail(email) });
    }
    const update: Partial<UserEntity> = {};
    if (!existing.roles.includes('admin')) update.roles = [...existing.roles, 'admin'];
    if (!(await this.hasher.verify(existing.passwordHash, password))) {
      update.passwordHash = await this.hasher.hash(password);
    }
    if (Object.keys(update).length > 0) await this.users.update({ id: existing.id }, update);
    return true;
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
    const user = await this.credentialsOf('email', normalizeEmail(email));
    const ok = await this.hasher.verify(user?.password_hash ?? null, password);
    return user && ok ? toSessionUser(user) : null;
  }

  /** Ties failed logins to the account in the audit trail (see `CredentialsVerifier.findByEmail`). */
  async findByEmail(email: string): Promise<SessionUser | null> {
    const user = await this.credentialsOf('email', normalizeEmail(email));
    return user ? toSessionUser(user) : null;
  }

  async findById(id: string): Promise<SessionUser | null> {
    if (!UUID.test(id)) return null;
    const user = await this.credentialsOf('id', id);
    return user ? toSessionUser(user) : null;
  }

  /**
   * The columns a login (and every refresh) needs of one user, by a unique column: one plain
   * statement, without the query builder and entity hydration of `findOneBy` on every request.
   */
  private async credentialsOf(column: 'email' | 'id', value: string): Promise<CredentialsRow | null> {
    const rows = (await this.users.query(
      column === 'email' ? CREDENTIALS_BY_EMAIL : CREDENTIALS_BY_ID,
      [value],
    )) as CredentialsRow[];
    return rows[0] ?? null;
  }

  /**
   * Inserts a user unless its email or its skeleton is taken (nothing inserted, `undefined`): one
   * statement, so two racing registrations of look-alikes cannot both succeed.
   * @throws BadRequestException when the database refuses a value (validation missed it: logged)
   */
  private async insert(user: Pick<UserEntity, 'email' | 'passwordHash' | 'name' | 'roles'>): Promise<{ id: string; email: string } | undefined> {
    const email = normalizeEmail(user.email);
    try {
      const result = await this.users
        .createQueryBuilder()
        .insert()
        .values({ ...user, email, emailSkeleton: emailSkeleton(email) })
        .orIgnore()
        .returning(['id', 'email'])
        .execute();
      return result.raw[0] as { id: string; email: string } | undefined;
    } catch (error) {
      const code = (error as { driverError?: { code?: unknown } }).driverError?.code;
      if (typeof code !== 'string' || !VALUE_REFUSED.has(code)) throw error;
      this.logger.warn(`The database refused a user that passed validation (SQLSTATE ${code}): the validation has a gap`);
      throw new BadRequestException('A field is too long or holds characters that cannot be stored');
    }
  }
}

function toSessionUser(user: Pick<UserEntity, 'id' | 'email' | 'roles'>): SessionUser {
  return { id: user.id, email: user.email, roles: user.roles };
}

/** A user's row as `credentialsOf` reads it. */
interface CredentialsRow {
  id: string;
  email: string;
  roles: string[];
  password_hash: string;
}

const CREDENTIALS_BY_EMAIL = 'SELECT "id", "email", "roles", "password_hash" FROM "users" WHERE "email" = $1 LIMIT 1';
const CREDENTIALS_BY_ID = 'SELECT "id", "email", "roles", "password_hash" FROM "users" WHERE "id" = $1 LIMIT 1';
