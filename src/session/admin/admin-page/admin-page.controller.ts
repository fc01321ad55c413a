import { Get, Header, Inject, OnModuleInit } from '@nestjs/common';
import { ApiExcludeController } from '../../http/openapi/swagger.js';
import { Public } from '../../http/decorators/public.decorator.js';
import { type AdminPageAssets, type AdminPagePaths, loadAdminPageAssets } from './admin-page.assets.js';

/** Injection token of the `AdminPagePaths` the page is served with. */
export const ADMIN_PAGE_PATHS = Symbol('ADMIN_PAGE_PATHS');

/** Browsers revalidate, so a new deployment's page and script are picked up at once. */
const REVALIDATE = 'no-cache';

/**
 * `GET /admin`: the admin web page, with its script and style sheet. Public, because the page
 * holds no data: everything it shows comes from the role-guarded admin API, called with the
 * visitor's own session cookies. Its routes are fixed paths, so they never shadow the API's
 * `/admin/...` routes. Mounted by `SessionAdminModule` at its path.
 */
@ApiExcludeController()
@Public()
export class AdminPageController implements OnModuleInit {
  private assets!: AdminPageAssets;

  constructor(@Inject(ADMIN_PAGE_PATHS) private readonly paths: AdminPagePaths) {}

  /** Reads the files at start (a missing one stops the start), with the app's global prefix known. */
  onModuleInit(): void {
    this.assets = loadAdminPageAssets(this.paths);
  }

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', REVALIDATE)
  page(): string {
    return this.assets.html;
  }

  @Get('assets/admin.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', REVALIDATE)
  script(): string {
    return this.assets.script;
  }

  @Get('assets/admin.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', REVALIDATE)
  styles(): string {
    return this.assets.styles;
  }
}
