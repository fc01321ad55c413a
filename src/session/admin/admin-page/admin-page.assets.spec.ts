import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminPageAssetsMissingError, loadAdminPageAssets } from './admin-page.assets.js';

const PATHS = { auth: '/api/auth', admin: '/ops/admin' };

describe('loadAdminPageAssets', () => {
  it('reads the page, script and style sheet from the module folder', () => {
    const assets = loadAdminPageAssets(PATHS);
    expect(assets.html).toContain('<!doctype html>');
    expect(assets.script).toContain("'use strict'");
    expect(assets.styles).toContain(':root');
  });

  it('writes where the routes are mounted into the page, and leaves no placeholder', () => {
    const { html } = loadAdminPageAssets(PATHS);
    expect(html).toContain('href="/ops/admin/assets/admin.css"');
    expect(html).toContain('src="/ops/admin/assets/admin.js"');
    expect(html).toContain('data-auth-path="/api/auth"');
    expect(html).toContain('data-admin-path="/ops/admin"');
    expect(html).not.toMatch(/\{\{\w+\}\}/);
  });

  it('names the missing file and how to get it there', () => {
    const empty = mkdtempSync(join(tmpdir(), 'admin-page-'));
    expect(() => loadAdminPageAssets(PATHS, empty)).toThrow(AdminPageAssetsMissingError);
    expect(() => loadAdminPageAssets(PATHS, empty)).toThrow(/index\.html is missing .*nest build/);
  });
});
