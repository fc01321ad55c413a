import { resetDatabase, RunningApp, startApp } from '../support/app-harness';

describe('the admin page files', () => {
  let running: RunningApp;

  beforeAll(async () => {
    await resetDatabase();
    running = await startApp();
  });
  afterAll(() => running.close());

  it('GET /admin answers the page as HTML to anyone, under a CSP that allows only own scripts', async () => {
    const res = await running.http.get('/admin').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html; charset=utf-8/i);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.text).toContain('<script src="/admin/assets/admin.js" defer></script>');
    expect(res.text).toContain('<link rel="stylesheet" href="/admin/assets/admin.css">');
    // Nothing the CSP would refuse: every script is a file, and no element has an on… handler.
    expect(res.text.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
    expect(res.text).not.toMatch(/\son[a-z]+\s*=/i);
  });

  it('GET /admin/assets/admin.js answers the script as JavaScript', async () => {
    const res = await running.http.get('/admin/assets/admin.js').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript; charset=utf-8/i);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.text).toContain("'use strict'");
  });

  it('GET /admin/assets/admin.css answers the style sheet as CSS', async () => {
    const res = await running.http.get('/admin/assets/admin.css').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/css; charset=utf-8/i);
    expect(res.text).toContain(':root');
  });

  it('serves no other file under /admin/assets', async () => {
    await running.http.get('/admin/assets/index.html').expect(404);
    await running.http.get('/admin/assets/admin-page.controller.js').expect(404);
    await running.http.get('/admin/assets/..%2f..%2fmain.js').expect(404);
  });

  it('leaves the admin API behind its guards', async () => {
    await running.http.get('/admin/sessions').expect(401);
    await running.http.delete('/admin/users/someone/sessions').expect(401);
  });
});
