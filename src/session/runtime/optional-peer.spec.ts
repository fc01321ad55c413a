import { SessionConfigurationError } from '../errors/session-configuration.error.js';
import { optionalPeer, requiredPeer } from './optional-peer.js';

describe('optional peers', () => {
  it('loads a peer the app has, from where the package is installed', () => {
    expect(optionalPeer<typeof import('ioredis')>('ioredis')?.Redis).toBeTypeOf('function');
  });

  it('is undefined for a peer the app does not have', () => {
    expect(optionalPeer('@example/not-installed')).toBeUndefined();
  });

  it('names the package to install when a chosen feature needs a missing one', () => {
    const attempt = () => requiredPeer('@example/not-installed', 'The Example adapters');
    expect(attempt).toThrow(SessionConfigurationError);
    expect(attempt).toThrow('The Example adapters need the package "@example/not-installed", which is not installed: npm install @example/not-installed');
  });
});
