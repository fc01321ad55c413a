import { randomBytes } from 'node:crypto';
import type { LoginFailureCounter, LoginFailurePolicy } from '../ports/login-failure-counter.js';

const policy: LoginFailurePolicy = { freeAttempts: 3, windowSeconds: 60, maxBlockSeconds: 8 };
const T0 = Date.UTC(2030, 0, 1);

/**
 * What every failed-login counter does: free attempts, then a doubling delay up to the cap, per
 * key, reset on success, and exact under concurrent failures.
 */
export function loginFailureCounterContract(name: string, make: () => { counter: LoginFailureCounter; close(): Promise<void> }) {
  describe(`LoginFailureCounter contract: ${name}`, () => {
    let counter: LoginFailureCounter;
    let close: () => Promise<void>;
    const key = () => `k-${randomBytes(6).toString('hex')}`;

    beforeAll(() => {
      ({ counter, close } = make());
    });
    afterAll(() => close());

    it('blocks nothing during the free attempts', async () => {
      const k = key();
      for (let i = 0; i < policy.freeAttempts; i++) expect(await counter.fail(k, T0, policy)).toBe(0);
      expect(await counter.blockedFor(k, T0)).toBe(0);
    });

    it('then blocks for a doubling delay that ends on time', async () => {
      const k = key();
      for (let i = 0; i < policy.freeAttempts; i++) await counter.fail(k, T0, policy);
      expect(await counter.fail(k, T0, policy)).toBe(1);
      expect(await counter.blockedFor(k, T0)).toBe(1);
      expect(await counter.blockedFor(k, T0 + 1000)).toBe(0);
      expect(await counter.fail(k, T0 + 1000, policy)).toBe(2);
      expect(await counter.blockedFor(k, T0 + 1500)).toBe(2);
      expect(await counter.fail(k, T0 + 3000, policy)).toBe(4);
      expect(await counter.fail(k, T0 + 7000, policy)).toBe(8);
      expect(await counter.fail(k, T0 + 15_000, policy)).toBe(8);
    });

    it('keys are independent, and reset forgets', async () => {
      const a = key();
      const b = key();
      for (let i = 0; i <= policy.freeAttempts; i++) await counter.fail(a, T0, policy);
      expect(await counter.blockedFor(a, T0)).toBe(1);
      expect(await counter.blockedFor(b, T0)).toBe(0);
      await counter.reset(a);
      expect(await counter.blockedFor(a, T0)).toBe(0);
      expect(await counter.fail(a, T0, policy)).toBe(0);
    });

    it('check says how long a key waits and whether failures are on record', async () => {
      const k = key();
      expect(await counter.check(k, T0)).toEqual({ blockedFor: 0, recorded: false });
      await counter.fail(k, T0, policy);
      expect(await counter.check(k, T0)).toEqual({ blockedFor: 0, recorded: true });
      for (let i = 0; i < policy.freeAttempts; i++) await counter.fail(k, T0, policy);
      expect(await counter.check(k, T0)).toEqual({ blockedFor: 1, recorded: true });
      await counter.reset(k);
      expect(await counter.check(k, T0)).toEqual({ blockedFor: 0, recorded: false });
    });

    it('counts concurrent failures exactly', async () => {
      const k = key();
      const blocks = await Promise.all(Array.from({ length: 10 }, () => counter.fail(k, T0, policy)));
      expect([...blocks].sort((x, y) => x - y)).toEqual([0, 0, 0, 1, 2, 4, 8, 8, 8, 8]);
    });
  });
}
