import { Controller, type Type } from '@nestjs/common';

/**
 * `base` mounted at `path`: a subclass carrying the path, so the module's controllers take the
 * path the app chose, and two apps in one process never share one. It keeps the base's name,
 * its routes, guards and dependencies (Nest reads them through the prototype chain).
 */
export function mountController<T>(base: Type<T>, path: string): Type<T> {
  const mounted = class extends (base as Type<object>) {} as Type<T>;
  Object.defineProperty(mounted, 'name', { value: base.name });
  Controller(path)(mounted);
  return mounted;
}
