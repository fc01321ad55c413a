import type { ServerResponse } from 'node:http';
import { type LoggedRequest, NEST_REQUEST, pathOf, requestLine, requestLogLevel } from './request-line';

const request = (fields: Record<string | symbol, unknown>) => ({ method: 'GET', headers: {}, ...fields }) as unknown as LoggedRequest;
const response = (statusCode: number) => ({ statusCode }) as ServerResponse;

describe('the request line', () => {
  it('logs the path without its query string, from the URL the client sent', () => {
    expect(pathOf(request({ url: '/ping/secure?access_token=sa_secret' }))).toBe('/ping/secure');
    // Express rewrites `url` inside mounted middleware; `originalUrl` is what the client sent.
    expect(pathOf(request({ url: '/', originalUrl: '/auth/me?x=1' }))).toBe('/auth/me');
    expect(pathOf(request({ url: `/${'a'.repeat(1000)}` }))).toHaveLength(256);
  });

  it('names the user and session of an authenticated request, on Express and on Fastify', () => {
    const authenticated = { user: { id: 'u1', roles: [] }, authSession: { sessionId: 's1' } };
    const express = requestLine(request({ url: '/auth/me', ...authenticated }), response(200), { responseTime: 3 });
    const fastify = requestLine(request({ url: '/auth/me', [NEST_REQUEST]: authenticated }), response(200), { responseTime: 3 });
    for (const line of [express, fastify]) {
      expect(line).toEqual({ method: 'GET', path: '/auth/me', status: 200, responseTime: 3, userId: 'u1', sessionId: 's1' });
    }
  });

  it('carries no header but a bounded User-Agent', () => {
    const line = requestLine(
      request({ url: '/', headers: { 'user-agent': 'x'.repeat(1000), authorization: 'Bearer sa_secret', cookie: 'a=b' } }),
      response(401),
      { responseTime: 1 },
    );
    expect(Object.keys(line)).toEqual(['method', 'path', 'status', 'responseTime', 'userAgent']);
    expect(line.userAgent).toHaveLength(256);
  });

  it('is an error for a 5xx only', () => {
    expect(requestLogLevel(request({}), response(500))).toBe('error');
    expect(requestLogLevel(request({}), response(200), new Error('aborted'))).toBe('error');
    expect(requestLogLevel(request({}), response(401))).toBe('info');
  });
});
