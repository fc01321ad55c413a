import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppEnv } from '../config/app-env';
import { normalizeEmail } from '../session';
import { UsersService } from './users.service';

/** Creates the admin from ADMIN_EMAIL / ADMIN_PASSWORD at start, when both are set. */
@Injectable()
export class AdminSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminSeeder.name);

  constructor(
    private readonly users: UsersService,
    private readonly env: AppEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = this.env;
    if (!email || !password) return;
    if (await this.users.ensureAdmin(email, password)) {
      this.logger.log(`Admin user ${normalizeEmail(email)} is present`);
    } else {
      // Not fatal: the service runs on; an operator removes the other account or picks another address.
      this.logger.error(
        `Admin user ${normalizeEmail(email)} was not created: another account's address looks like it (Unicode TS #39); ` +
          'remove that account or set another ADMIN_EMAIL',
      );
    }
  }
}
