import { DynamicModule, Inject, Logger, Module, OnModuleInit, type Type } from '@nestjs/common';
import { mountController } from '../http/mount-controller.js';
import { SessionConfigurationError } from '../errors/session-configuration.error.js';
import { SessionPaths } from '../http/session-paths.js';
import { AdminOperationsController } from './admin-operations.controller.js';
import type { AdminPagePaths } from './admin-page/admin-page.assets.js';
import { ADMIN_PAGE_PATHS, AdminPageController } from './admin-page/admin-page.controller.js';
import { AdminSessionsController } from './admin-sessions.controller.js';

const ADMIN_PAGE_ENABLED = Symbol('ADMIN_PAGE_ENABLED');

/** Options of `SessionAdminModule.forRoot`. */
export interface SessionAdminModuleOptions {
  /**
   * Path of the admin routes (`GET /admin/sessions`, `/admin/audit`, …) and of the page.
   * @default 'admin'
   */
  path?: string;
  /**
   * Serve the admin web page at the path (`GET /admin`, public: it holds no data, everything it
   * shows comes from the role-guarded routes).
   * @default true
   */
  page?: boolean;
}

/**
 * Who is logged in where, for operators: the admin routes (role `admin`: list and revoke
 * sessions, end every session issued before a moment, statistics, audit trail) and the admin
 * page. Import it beside `SessionModule.forRoot`, which must stay global (its default):
 *
 * ```ts
 * imports: [SessionModule.forRoot({ secret, credentials }), SessionAdminModule.forRoot()]
 * ```
 */
@Module({})
export class SessionAdminModule implements OnModuleInit {
  constructor(
    @Inject(ADMIN_PAGE_PATHS) private readonly paths: AdminPagePaths,
    @Inject(ADMIN_PAGE_ENABLED) private readonly page: boolean,
  ) {}

  /** Says at start which admin routes the app serves. */
  onModuleInit(): void {
    const at = this.paths.admin;
    new Logger('SessionAdminModule').log(
      `Admin routes at ${at}/sessions, ${at}/users/:userId/sessions, ${at}/sessions/stats, ${at}/sessions/end-issued-before, ${at}/audit (role admin)` +
        (this.page ? `; admin page at ${at}` : ''),
    );
  }

  static forRoot(options: SessionAdminModuleOptions = {}): DynamicModule {
    const path = options.path ?? 'admin';
    const controllers: Type[] = [mountController(AdminSessionsController, path), mountController(AdminOperationsController, path)];
    if (options.page !== false) controllers.push(mountController(AdminPageController, path));
    return {
      module: SessionAdminModule,
      controllers,
      providers: [
        {
          provide: ADMIN_PAGE_PATHS,
          inject: [{ token: SessionPaths, optional: true }],
          useFactory: (paths?: SessionPaths): AdminPagePaths => {
            if (!paths) {
              throw new SessionConfigurationError(
                'SessionAdminModule needs SessionModule.forRoot() or forRootAsync() in the app, global (isGlobal: true, its default).',
              );
            }
            // Read when the page is first built, once the app's global prefix is set.
            return {
              get auth() {
                return paths.auth;
              },
              get admin() {
                return paths.under(path);
              },
            };
          },
        },
        { provide: ADMIN_PAGE_ENABLED, useValue: options.page !== false },
      ],
    };
  }
}
