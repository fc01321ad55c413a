import { DOCS_CONTENT_SECURITY_POLICY, isDocsUrl } from './docs-csp';

describe('docs CSP', () => {
  it('covers the Swagger UI, its files and the JSON document, and nothing else', () => {
    for (const url of ['/docs', '/docs/', '/docs?x=1', '/docs/swagger-ui-bundle.js', '/docs-json']) {
      expect({ url, docs: isDocsUrl(url, 'docs') }).toEqual({ url, docs: true });
    }
    for (const url of ['/', '/docsx', '/docs-yaml', '/admin', '/auth/login?next=/docs', '/api/docs']) {
      expect({ url, docs: isDocsUrl(url, 'docs') }).toEqual({ url, docs: false });
    }
  });

  it("is helmet's default policy without upgrade-insecure-requests", () => {
    expect(DOCS_CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(DOCS_CONTENT_SECURITY_POLICY).toContain("script-src 'self';");
    expect(DOCS_CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(DOCS_CONTENT_SECURITY_POLICY).not.toContain('upgrade-insecure-requests');
  });
});
