import { Injectable } from '@nestjs/common';
import { randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import type { CredentialsVerifier, SessionUser } from 'nest-session-module';

interface StoredUser extends SessionUser {
  salt: Buffer;
  hash: Buffer;
}

const hashOf = (password: string, salt: Buffer) => scryptSync(password, salt, 32);

/** The host's own users: two seeded accounts, kept in memory, passwords hashed with scrypt. */
@Injectable()
export class UsersService implements CredentialsVerifier {
  private readonly users = new Map<string, StoredUser>();

  constructor() {
    this.add('user@example.com', 'user password', []);
    this.add('admin@example.com', 'admin password', ['admin']);
  }

  async verify(email: string, password: string): Promise<SessionUser | null> {
    const user = [...this.users.values()].find((u) => u.email === email.toLowerCase());
    // Hash a dummy for an unknown email, so both failures take as long.
    const salt = user?.salt ?? randomBytes(16);
    const ok = timingSafeEqual(hashOf(password, salt), user?.hash ?? hashOf('x', salt));
    return user && ok ? this.toSessionUser(user) : null;
  }

  async findById(id: string): Promise<SessionUser | null> {
    const user = this.users.get(id);
    return user ? this.toSessionUser(user) : null;
  }

  findByEmail(email: string): SessionUser | null {
    const user = [...this.users.values()].find((u) => u.email === email.toLowerCase());
    return user ? this.toSessionUser(user) : null;
  }

  private add(email: string, password: string, roles: string[]): void {
    const salt = randomBytes(16);
    const id = randomUUID();
    this.users.set(id, { id, email, roles, salt, hash: hashOf(password, salt) });
  }

  private toSessionUser({ id, email, roles }: StoredUser): SessionUser {
    return { id, email, roles: [...roles] };
  }
}
