import { pino } from 'pino';
import { pinoOptions } from './pino.options';

describe('the log options', () => {
  it('censor credential headers, bodies and credential fields should a log call pass them', () => {
    const lines: string[] = [];
    const logger = pino(pinoOptions('info'), { write: (line: string) => lines.push(line) });
    logger.info({
      headers: { authorization: 'Bearer sa_secret1', cookie: '__Host-access=sa_secret2', 'x-csrf-token': 'csrf_secret3', 'user-agent': 'kept' },
      res: { headers: { 'set-cookie': ['__Host-access=sa_secret4'] } },
      body: { password: 'secret5' },
      password: 'secret6',
      refreshToken: 'sr_secret7',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/secret/);
    expect(JSON.parse(lines[0])).toMatchObject({ headers: { authorization: '[Redacted]', 'user-agent': 'kept' }, password: '[Redacted]' });
  });
});
