import { CanActivate, ExecutionContext, Injectable, UnsupportedMediaTypeException } from '@nestjs/common';

/** `application/json`, or a `+json` type, with parameters (`; charset=utf-8`). */
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/** True when a request carries a body that is not JSON (by its headers: nothing is read). */
export function carriesNonJsonBody(headers: Record<string, string | string[] | undefined>): boolean {
  const hasBody = headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
  const type = headers['content-type'];
  return hasBody && !(typeof type === 'string' && JSON_TYPE.test(type));
}

/**
 * A request with a body must send JSON (415 otherwise), whatever body parsers the app has: a
 * form-encoded login is what a cross-site HTML form can send, so refusing it closes login CSRF
 * (logging a victim into the attacker's account) on the module's routes.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { headers } = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    if (carriesNonJsonBody(headers)) throw new UnsupportedMediaTypeException('Content-Type must be application/json');
    return true;
  }
}
