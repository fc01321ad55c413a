import { Injectable } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';

/** argon2id hashing (OWASP's recommended parameters: 19 MiB, 2 passes). */
@Injectable()
export class PasswordHasher {
  private readonly options = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
  /** A real hash of a random password, verified against when the email is unknown. */
  private readonly dummy = hash(`dummy-${Math.random()}`, this.options);

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  async verify(passwordHash: string | null, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash ?? (await this.dummy), password);
    } catch {
      return false;
    }
  }
}
