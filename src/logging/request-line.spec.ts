import type { AuthenticatedRequest, RawRequest } from '../http/request-observer';
import { pathOf, requestLine, requestLogLevel } from './request-line';

const request = (fields: Record<string | symbol, unknown>) =>
  ({ method: 'GET', headers: {}, ...fields }) as unknown as RawRequest & AuthenticatedRequest;

describe('the request line', () => {
  it('logs the path without its query string, from the URL the client sent', () => {
    expect(pathOf(request({ url: '/ping/secure?access_token=sa_secret' }))).toBe('/ping/secure');
    // Express rewrites `url` inside mounted middleware; `originalUrl` is what the client sent.
    expect(pathOf(request({ url: '/', originalUrl: '/auth/me?x=1' }))).toBe('/auth/me');
    expect(pathOf(request({ url: `/${'a'.repeat(1000)}` }))).toHaveLength(256);
  });

  it('names the user and session of an authenticated request, whichever object the guards worked on', () => {
    // Where SessionAuthGuard leaves the session (read back with the module's `requestSession`).
    const authenticated = { user: { id: 'u1', roles: [] }, authSession: { sessionId: 's1', userId: 'u1' } };
    const express = request({ url: '/auth/me', ...authenticated });
    const line = requestLine('r1', express, express, 200, 3);
    expect(line).toEqual({ reqId: 'r1', method: 'GET', path: '/auth/me', status: 200, responseTime: 3, userId: 'u1', sessionId: 's1' });
    // Fastify: the guards set them on Fastify's request, not on the Node one.
    expect(requestLine('r1', request({ url: '/auth/me' }), authenticated, 200, 3)).toEqual(line);
  });

  it('carries no header but a bounded User-Agent', () => {
    const raw = request({ url: '/', headers: { 'user-agent': 'x'.repeat(1000), authorization: 'Bearer sa_secret', cookie: 'a=b' } });
    const line = requestLine('r2', raw, raw, 401, 1);
    expect(Object.keys(line)).toEqual(['reqId', 'method', 'path', 'status', 'responseTime', 'userAgent']);
    expect(line.userAgent).toHaveLength(256);
  });

  it('is an error for a 5xx only', () => {
    expect(requestLogLevel(500)).toBe('error');
    expect(requestLogLevel(503)).toBe('error');
    expect(requestLogLevel(401)).toBe('info');
  });
});
