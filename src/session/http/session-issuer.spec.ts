import { Test } from '@nestjs/testing';
import { SessionEventPublisher } from '../session-event.publisher.js';
import type { SessionEvent } from '../session.events.js';
import { SessionModule } from '../session.module.js';
import { SessionIssuer } from './session-issuer.js';

const user = { id: 'u1', email: 'u1@example.com', roles: [] };

/** `SessionIssuer.issue`: the login of the app's own flows (OAuth, SSO, magic link). */
describe('SessionIssuer.issue', () => {
  it('tells a new device or network like a password login does (new_device)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SessionModule.forRoot({
          secret: 'issuer-secret-issuer-secret-issuer-secret',
          credentials: { verify: async () => null, findById: async () => user },
          cookies: false,
        }),
      ],
    }).compile();
    try {
      const seen: SessionEvent[] = [];
      moduleRef.get(SessionEventPublisher).onEvent((event) => seen.push(event));
      const issuer = moduleRef.get(SessionIssuer);
      const from = (ip: string) => ({ ip, method: 'POST', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' } });
      const res = {} as never;
      await issuer.issue(from('198.51.100.1'), res, user);
      await issuer.issue(from('198.51.100.2'), res, user);
      const third = await issuer.issue(from('203.0.113.9'), res, user);
      expect(seen.filter((e) => e.type === 'new_device').map((e) => [e.sessionId, e.detail])).toEqual([
        [third.sessionId, 'new network: Firefox on Linux, 203.0.113.0/24'],
      ]);
    } finally {
      await moduleRef.close();
    }
  });
});
