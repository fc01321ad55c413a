import { LRUCache } from 'lru-cache';
import { blockSeconds, LoginFailureCounter, LoginFailurePolicy } from '../../ports/login-failure-counter.js';

interface Failures {
  count: number;
  blockedUntil: number;
}

/** Failed-login counts in this process, bounded in keys and time. */
export class MemoryLoginFailureCounter extends LoginFailureCounter {
  private readonly failures = new LRUCache<string, Failures>({ max: 100_000 });

  async blockedFor(key: string, nowMs: number): Promise<number> {
    const entry = this.failures.get(key);
    return entry ? Math.max(0, Math.ceil((entry.blockedUntil - nowMs) / 1000)) : 0;
  }

  override async check(key: string, nowMs: number): Promise<{ blockedFor: number; recorded: boolean }> {
    return { blockedFor: await this.blockedFor(key, nowMs), recorded: this.failures.has(key) };
  }

  async fail(key: string, nowMs: number, policy: LoginFailurePolicy): Promise<number> {
    const count = (this.failures.get(key)?.count ?? 0) + 1;
    const block = blockSeconds(count, policy);
    this.failures.set(
      key,
      { count, blockedUntil: nowMs + block * 1000 },
      { ttl: Math.max(policy.windowSeconds, block) * 1000 },
    );
    return block;
  }

  async reset(key: string): Promise<void> {
    this.failures.delete(key);
  }
}
