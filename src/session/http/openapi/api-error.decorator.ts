import { applyDecorators } from '@nestjs/common';
import type { HeadersObject } from '@nestjs/swagger';
import { ApiExtraModels, ApiResponse } from './swagger.js';
import { STATUS_CODES } from 'node:http';
import { ErrorResponse } from './error-response.js';

/** Extra details of a documented error answer. */
export interface ApiErrorOptions {
  /** When it happens; defaults to the message. */
  description?: string;
  /** Response headers the client can rely on (e.g. `Retry-After`, `WWW-Authenticate`). */
  headers?: HeadersObject;
}

/**
 * Documents one reason for an error answer: `{statusCode, message, error}` with an example built
 * from the status, so the example always matches what Nest writes. Several reasons for the same
 * status on one route (a 403 for a missing role and for a missing CSRF token) add up: their
 * descriptions are joined and each keeps its named example.
 * @param status the HTTP status code
 * @param message the `message` the route answers with (for validation errors, an example list)
 */
export function ApiError(status: number, message: string | string[], options: ApiErrorOptions = {}) {
  const summary = options.description ?? (Array.isArray(message) ? message.join('; ') : message);
  const exampleName = summary
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return applyDecorators(
    ApiExtraModels(ErrorResponse),
    ApiResponse({
      status,
      description: summary,
      type: ErrorResponse,
      headers: options.headers,
      examples: {
        [exampleName]: { summary, value: { statusCode: status, message, error: STATUS_CODES[status] ?? 'Error' } },
      },
    }),
  );
}

/** A 400 from DTO validation: `message` lists what is wrong with each field. */
export const ApiValidationError = (example: string[], description = 'The request is malformed.') =>
  ApiError(400, example, { description });

/** The `Retry-After` header of 429 and 503 answers. */
export const RETRY_AFTER_HEADER: HeadersObject = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } },
};
