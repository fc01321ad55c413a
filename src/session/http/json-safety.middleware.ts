import type { ServerResponse } from 'node:http';

const MAX_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** NUL, or a UTF-16 surrogate without its pair (ill-formed text that validators and PostgreSQL choke on). */
const ILL_FORMED = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a parsed JSON body is refused, or null when it is fine. Iterative: deep bodies cannot overflow the stack. */
export function unsafeJsonReason(body: unknown): string | null {
  const stack: Array<[unknown, number]> = [[body, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (ILL_FORMED.test(value)) return 'text must not contain NUL or unpaired surrogates';
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_DEPTH) return `JSON nested deeper than ${MAX_DEPTH} levels`;
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `property "${key}" is not allowed`;
      if (ILL_FORMED.test(key)) return 'keys must not contain NUL or unpaired surrogates';
      stack.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return null;
}

/** Writes the 400 for an unsafe body on a plain Node response (Express or Fastify's raw reply). */
export function refuseUnsafeJson(res: ServerResponse, reason: string): void {
  res.statusCode = 400;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ statusCode: 400, message: reason, error: 'Bad Request' }));
}

/**
 * Express-style middleware: refuses (400) parsed JSON bodies that are nested absurdly deep,
 * carry prototype keys, or hold ill-formed text, before validation or the database ever sees
 * them. Runs after the body parser; on Fastify use a `preValidation` hook with
 * `unsafeJsonReason` (middleware runs before Fastify parses the body).
 */
export function jsonSafety(req: { body?: unknown }, res: ServerResponse, next: () => void): void {
  const reason = req.body === undefined ? null : unsafeJsonReason(req.body);
  if (reason) return refuseUnsafeJson(res, reason);
  next();
}
