/**
 * Second line of defence: the serializers never write headers or bodies, but should a log call
 * hand pino a request, a response, headers or a credential field anyway, these are censored.
 * Only paths under a named top-level key: pino then checks them just for objects that carry that
 * key, where a `*` at the top would cost a check on every field of every line.
 */
export const REDACTED_PATHS: readonly string[] = [
  ...['req.headers', 'res.headers', 'headers'].flatMap((headers) => [
    `${headers}.authorization`,
    `${headers}.cookie`,
    `${headers}["set-cookie"]`,
    `${headers}["x-csrf-token"]`,
  ]),
  'req.body',
  'body',
  'password',
  'currentPassword',
  'newPassword',
  'accessToken',
  'refreshToken',
  'csrfToken',
  'token',
  // TypeORM's QueryFailedError carries the statement's parameters: token hashes, password hashes.
  'err.parameters',
  'err.driverError.parameters',
];
