import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminPageAssetsMissingError, loadAdminPageAssets } from './admin-page.assets.js';

describe('loadAdminPageAssets', () => {
  it('reads the page, script and style sheet from the folder', () => {
    const assets = loadAdminPageAssets(__dirname);
    expect(assets.html).toContain('<!doctype html>');
    expect(assets.script).toContain("'use strict'");
    expect(assets.styles).toContain(':root');
  });

  it('names the missing file and how to get it there', () => {
    const empty = mkdtempSync(join(tmpdir(), 'admin-page-'));
    expect(() => loadAdminPageAssets(empty)).toThrow(AdminPageAssetsMissingError);
    expect(() => loadAdminPageAssets(empty)).toThrow(/index\.html is missing .*nest build/);
  });
});
