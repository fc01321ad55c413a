import type { IncomingMessage } from 'node:http';
import { requestIdOf } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const withHeader = (value?: string | string[]) => ({ headers: { 'x-request-id': value } }) as unknown as IncomingMessage;

describe('requestIdOf', () => {
  it('keeps a sane short token from the client', () => {
    expect(requestIdOf(withHeader('client-req_42.a:b'))).toBe('client-req_42.a:b');
    expect(requestIdOf(withHeader('0af7651916cd43dd8448eb211c80319c'))).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('makes a UUID when the header is missing, empty, too long, repeated or carries other characters', () => {
    for (const value of [undefined, '', 'x'.repeat(65), ['a', 'b'], 'has space', 'line\nbreak', 'a"b', 'Bearer sa_x=y']) {
      expect(requestIdOf(withHeader(value))).toMatch(UUID);
    }
  });
});
