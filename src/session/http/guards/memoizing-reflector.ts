import { Reflector } from '@nestjs/core';

/**
 * A `Reflector` whose `getAllAndOverride` remembers its answer per metadata key, handler and
 * class: route metadata is fixed once the app runs, and guards such as `@nestjs/throttler`'s read
 * a dozen keys on every request.
 */
export class MemoizingReflector extends Reflector {
  private readonly answers = new Map<unknown, WeakMap<object, WeakMap<object, { value: unknown }>>>();

  override getAllAndOverride<T = unknown>(key: unknown, targets: unknown[]): T {
    const [handler, type] = targets as [object | undefined, object | undefined];
    if (targets.length !== 2 || typeof handler !== 'function' || typeof type !== 'function') {
      return super.getAllAndOverride(key as never, targets as never) as T;
    }
    let byHandler = this.answers.get(key);
    if (!byHandler) this.answers.set(key, (byHandler = new WeakMap()));
    let byClass = byHandler.get(handler);
    if (!byClass) byHandler.set(handler, (byClass = new WeakMap()));
    let entry = byClass.get(type);
    if (!entry) byClass.set(type, (entry = { value: super.getAllAndOverride(key as never, targets as never) }));
    return entry.value as T;
  }
}
