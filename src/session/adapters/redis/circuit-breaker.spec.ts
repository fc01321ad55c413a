import { CircuitBreaker, CircuitOpenError } from './circuit-breaker.js';

describe('CircuitBreaker', () => {
  let now = 0;
  const breaker = () => new CircuitBreaker({ failureThreshold: 3, openMs: 1000 }, () => now);
  const fail = () => Promise.reject(new Error('down'));
  const ok = () => Promise.resolve('ok');

  beforeEach(() => {
    now = 0;
  });

  it('passes calls while closed, and a success resets the failure count', async () => {
    const b = breaker();
    await expect(b.run(fail)).rejects.toThrow('down');
    await expect(b.run(fail)).rejects.toThrow('down');
    await expect(b.run(ok)).resolves.toBe('ok');
    await expect(b.run(fail)).rejects.toThrow('down');
    expect(b.isOpen).toBe(false);
  });

  it('opens after the threshold: calls fail fast without running', async () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) await expect(b.run(fail)).rejects.toThrow('down');
    const call = vi.fn(ok);
    await expect(b.run(call)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(call).not.toHaveBeenCalled();
    expect(b.isOpen).toBe(true);
  });

  it('after the pause lets one trial through: success closes, failure reopens', async () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) await expect(b.run(fail)).rejects.toThrow();
    now = 1000;
    await expect(b.run(fail)).rejects.toThrow('down');
    await expect(b.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    now = 2000;
    await expect(b.run(ok)).resolves.toBe('ok');
    expect(b.isOpen).toBe(false);
    await expect(b.run(ok)).resolves.toBe('ok');
  });

  it('only one trial at a time while half-open', async () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) await expect(b.run(fail)).rejects.toThrow();
    now = 1000;
    let release!: () => void;
    const trial = b.run(() => new Promise<string>((r) => (release = () => r('ok'))));
    await expect(b.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    release();
    await expect(trial).resolves.toBe('ok');
  });
});

describe('CircuitBreaker with a background probe', () => {
  it('while open never runs calls; a successful probe closes it', async () => {
    vi.useFakeTimers();
    try {
      let up = false;
      const probe = vi.fn(() => (up ? Promise.resolve('PONG') : Promise.reject(new Error('down'))));
      const b = new CircuitBreaker({ failureThreshold: 2, openMs: 100, probe });
      for (let i = 0; i < 2; i++) await expect(b.run(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
      const call = vi.fn(() => Promise.resolve('ok'));
      await vi.advanceTimersByTimeAsync(250);
      await expect(b.run(call)).rejects.toBeInstanceOf(CircuitOpenError);
      expect(call).not.toHaveBeenCalled();
      expect(probe).toHaveBeenCalled();
      up = true;
      await vi.advanceTimersByTimeAsync(100);
      await expect(b.run(call)).resolves.toBe('ok');
      b.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
