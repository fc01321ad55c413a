import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppEnv } from '../config/app-env';
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
    await this.users.ensureAdmin(email, password);
    this.logger.log(`Admin user ${email.toLowerCase()} is present`);
  }
}
