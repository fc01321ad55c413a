import type { NextFunction, Request, Response } from 'express';
import { carriesNonJsonBody } from '../session';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The API speaks JSON only: a request that carries a body of another media type gets 415
 * instead of being parsed as an empty object (before any parser runs; the module's own routes
 * check it again in their `JsonBodyGuard`).
 */
export function jsonOnly(req: Request, res: Response, next: NextFunction): void {
  if (BODY_METHODS.has(req.method) && carriesNonJsonBody(req.headers)) {
    res.status(415).json({
      statusCode: 415,
      message: 'Content-Type must be application/json',
      error: 'Unsupported Media Type',
    });
    return;
  }
  next();
}
