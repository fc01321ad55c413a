import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SESSION_EVENT_TYPES } from '../../session.events.js';

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
        '`nest build` copies index.html, admin.js and admin.css there (the "assets" of nest-cli.json); ' +
        'build with it, or copy src/session/http/admin-page/*.{html,js,css} next to the compiled controller.',
      { cause },
    );
    this.name = this.constructor.name;
  }
}

/**
 * Reads the page's files once, at start-up: they never change while the app runs, and a
 * missing file should stop the start rather than fail the first visitor.
 * @param dir the folder holding them; the compiled controller's own folder by default
 * @throws AdminPageAssetsMissingError
 */
export function loadAdminPageAssets(dir: string = __dirname): AdminPageAssets {
  const read = (file: string): string => {
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch (error) {
      throw new AdminPageAssetsMissingError(dir, file, error);
    }
  };
  return {
    // The audit filter lists the event types the module has, from the one list of them.
    html: read(ADMIN_PAGE_FILES.html).replace('{{SESSION_EVENT_TYPES}}', SESSION_EVENT_TYPES.join(',')),
    script: read(ADMIN_PAGE_FILES.script),
    styles: read(ADMIN_PAGE_FILES.styles),
  };
}
