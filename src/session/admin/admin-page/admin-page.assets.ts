import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MODULE_FILE } from '../../runtime/module-file.js';
import { SESSION_EVENT_TYPES } from '../../session.events.js';

/** The page's folder in the module (and in the package): `admin/admin-page` next to the compiled code. */
export const ADMIN_PAGE_DIR = join(dirname(MODULE_FILE), '..', 'admin', 'admin-page');

/** Where the page finds the routes it calls. */
export interface AdminPagePaths {
  /** The module's login routes, e.g. `/auth`. */
  auth: string;
  /** The admin routes and this page, e.g. `/admin`. */
  admin: string;
}

/** The admin page's static files, as text. */
export interface AdminPageAssets {
  html: string;
  script: string;
  styles: string;
}

/** File names in the page's folder, next to the compiled controller. */
export const ADMIN_PAGE_FILES = { html: 'index.html', script: 'admin.js', styles: 'admin.css' } as const;

/** The page's files are missing where the compiled code looks for them. */
export class AdminPageAssetsMissingError extends Error {
  constructor(dir: string, file: string, cause: unknown) {
    super(
      `The admin page file ${file} is missing from ${dir}. ` +
        'The package ships them there; in this repository `nest build` copies them (the "assets" of nest-cli.json): ' +
        'build with it, or copy src/session/admin/admin-page/*.{html,js,css} next to the compiled controller.',
      { cause },
    );
    this.name = this.constructor.name;
  }
}

/**
 * Reads the page's files once, at start-up: they never change while the app runs, and a
 * missing file should stop the start rather than fail the first visitor.
 * @param paths where the module's routes are mounted, written into the page
 * @param dir the folder holding them
 * @throws AdminPageAssetsMissingError
 */
export function loadAdminPageAssets(paths: AdminPagePaths, dir: string = ADMIN_PAGE_DIR): AdminPageAssets {
  const read = (file: string): string => {
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch (error) {
      throw new AdminPageAssetsMissingError(dir, file, error);
    }
  };
  return {
    // The audit filter lists the event types the module has, from the one list of them.
    html: read(ADMIN_PAGE_FILES.html)
      .replace('{{SESSION_EVENT_TYPES}}', SESSION_EVENT_TYPES.join(','))
      .replaceAll('{{AUTH_PATH}}', paths.auth)
      .replaceAll('{{ADMIN_PATH}}', paths.admin),
    script: read(ADMIN_PAGE_FILES.script),
    styles: read(ADMIN_PAGE_FILES.styles),
  };
}
