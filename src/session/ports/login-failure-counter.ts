/** How failed logins slow down one (account, network) pair. */
export interface LoginFailurePolicy {
  /** Failures allowed before any delay. */
  freeAttempts: number;
  /** Seconds a count of failures is remembered after the last one. */
  windowSeconds: number;
  /** Longest delay, in seconds; each failure past the free ones doubles it from 1 s up to this. */
  maxBlockSeconds: number;
}

/**
 * Counts failed logins per key (account and client network) and says how long the key must
 * wait. Slows a password guesser on one account without locking the real user out from
 * elsewhere. Adapters: Redis (shared by all instances) and memory.
 */
export abstract class LoginFailureCounter {
  /** Seconds until `key` may try again; 0 when it may now. */
  abstract blockedFor(key: string, nowMs: number): Promise<number>;

  /**
   * `blockedFor`, and whether `key` has failures on record: when it has none, a success right
   * after needs no `reset` (a login with no failure behind it costs one round trip, not two). A
   * failure counted between this call and the success then stays counted (the stricter side).
   * The default asks `blockedFor` and says there may be some, so a `reset` always follows.
   */
  async check(key: string, nowMs: number): Promise<{ blockedFor: number; recorded: boolean }> {
    return { blockedFor: await this.blockedFor(key, nowMs), recorded: true };
  }

  /** Counts a failure. @returns seconds `key` is now blocked for (0 when not) */
  abstract fail(key: string, nowMs: number, policy: LoginFailurePolicy): Promise<number>;

  /** Forgets the failures of `key` (after a successful login). */
  abstract reset(key: string): Promise<void>;
}

/** The delay after `failures` failures: none while free, then 1, 2, 4 … seconds up to the cap. */
export function blockSeconds(failures: number, policy: LoginFailurePolicy): number {
  if (failures <= policy.freeAttempts) return 0;
  return Math.min(2 ** (failures - policy.freeAttempts - 1), policy.maxBlockSeconds);
}
