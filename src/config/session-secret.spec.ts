import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { parseAppEnv } from './app-env';
import { loadSessionSecrets, type SessionSecretLogger } from './session-secret';

/** Keeps every call, with all its arguments, by level. */
function recordingLogger(): SessionSecretLogger & { calls: { level: 'log' | 'warn'; args: unknown[] }[] } {
  const calls: { level: 'log' | 'warn'; args: unknown[] }[] = [];
  return {
    calls,
    log: (...args: unknown[]) => calls.push({ level: 'log', args }),
    warn: (...args: unknown[]) => calls.push({ level: 'warn', args }),
  };
}

describe('loadSessionSecrets', () => {
  let root: string;
  let dataDir: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'session-secret-'));
    dataDir = join(root, 'data');
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('without SESSION_SECRET makes a secret, saying so once, without the secret', () => {
    const logger = recordingLogger();
    const [secret] = loadSessionSecrets(parseAppEnv({ DATA_DIR: dataDir }), logger);

    const file = join(dataDir, 'session-secret');
    expect(readFileSync(file, 'utf8')).toBe(secret);
    expect(logger.calls).toEqual([
      {
        level: 'warn',
        args: [`SESSION_SECRET not set: generated a new secret in ${file}; set SESSION_SECRET in production`],
      },
    ]);
    expect(JSON.stringify(logger.calls)).not.toContain(secret);
  });

  it('on the next start uses the kept secret, saying so once, without the secret', () => {
    const env = parseAppEnv({ DATA_DIR: dataDir });
    const [made] = loadSessionSecrets(env, recordingLogger());
    const logger = recordingLogger();

    expect(loadSessionSecrets(env, logger)).toEqual([made]);
    expect(logger.calls).toEqual([
      { level: 'log', args: [`SESSION_SECRET not set: using the secret kept in ${join(dataDir, 'session-secret')}`] },
    ]);
    expect(JSON.stringify(logger.calls)).not.toContain(made);
  });

  it('names the file as DATA_DIR gives it: .data/session-secret by default', () => {
    const logger = recordingLogger();
    const cwd = process.cwd();
    process.chdir(root);
    try {
      loadSessionSecrets(parseAppEnv({}), logger);
    } finally {
      process.chdir(cwd);
    }
    expect(logger.calls[0]?.args[0]).toContain(' in .data/session-secret;');
  });

  it('with SESSION_SECRET uses its keys and logs nothing', () => {
    const logger = recordingLogger();
    const keys = loadSessionSecrets(parseAppEnv({ SESSION_SECRET: ' first key , second key ', DATA_DIR: dataDir }), logger);
    expect(keys).toEqual(['first key', 'second key']);
    expect(logger.calls).toEqual([]);
  });

  it('in production without SESSION_SECRET refuses to start', () => {
    const logger = recordingLogger();
    expect(() => loadSessionSecrets(parseAppEnv({ NODE_ENV: 'production', DATA_DIR: dataDir }), logger)).toThrow(
      /SESSION_SECRET is required when NODE_ENV=production/,
    );
    expect(logger.calls).toEqual([]);
  });

  it("logs through Nest's Logger by default, so the app's JSON logger writes the line", () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      loadSessionSecrets(parseAppEnv({ DATA_DIR: dataDir }));
      expect(warn).toHaveBeenCalledOnce();
      expect(warn.mock.calls[0]?.[0]).toMatch(/^SESSION_SECRET not set: generated a new secret in /);
    } finally {
      warn.mockRestore();
    }
  });
});
