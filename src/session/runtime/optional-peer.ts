import { createRequire } from 'node:module';
import { SessionConfigurationError } from '../errors/session-configuration.error.js';
import { MODULE_FILE } from './module-file.js';

const requirePeer = createRequire(MODULE_FILE);

/** True when `error` says `name` itself is not installed (not that something inside it is broken). */
function isMissing(error: unknown, name: string): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return (
    (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(`'${name}'`)
  );
}

/**
 * An optional peer package, or `undefined` when the app did not install it. Loaded on first use,
 * synchronously, from where this package is installed (an ES module peer through Node's
 * `require(esm)`, Node ≥ 20.19).
 */
export function optionalPeer<T>(name: string): T | undefined {
  try {
    return requirePeer(name) as T;
  } catch (error) {
    if (isMissing(error, name)) return undefined;
    throw error;
  }
}

/**
 * A peer package a chosen feature needs.
 * @param feature what needs it, for the message (e.g. `the Redis adapters`)
 * @throws SessionConfigurationError naming the package to install, when it is missing
 */
export function requiredPeer<T>(name: string, feature: string): T {
  const loaded = optionalPeer<T>(name);
  if (loaded === undefined) {
    throw new SessionConfigurationError(`${feature} need the package "${name}", which is not installed: npm install ${name}`);
  }
  return loaded;
}
