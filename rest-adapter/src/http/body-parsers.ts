import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '@gpuaas/errors';

/** Paths whose handlers need the exact request bytes: Stripe signs the raw body, so it must not be re-serialised. */
export const RAW_BODY_PATHS: ReadonlySet<string> = new Set(['/api/v1/payments/webhook']);

export const API_PATH = /^\/(api|internal)(\/|$)/;

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * JSON bodies for the API paths only. On raw-body paths the bytes are kept in `res.locals.rawBody` and the
 * parsed JSON goes to `req.body`, so validation and handlers see the same object as everywhere else.
 */
export function apiBodyParser(limit: string): RequestHandler {
  const json = express.json({ limit, type: JSON_TYPES });
  const raw = express.raw({ limit, type: JSON_TYPES });
  return (req: Request, res: Response, next: NextFunction) => {
    if (!API_PATH.test(req.path)) return next();
    if (!RAW_BODY_PATHS.has(trimTrailingSlashes(req.path))) return json(req, res, next);
    raw(req, res, (error?: unknown) => {
      if (error) return next(error);
      if (!Buffer.isBuffer(req.body)) return next();
      res.locals['rawBody'] = req.body;
      try {
        req.body = req.body.length === 0 ? undefined : (JSON.parse(req.body.toString('utf8')) as unknown);
        next();
      } catch {
        next(new AppError('validation_error', 'The request body is not valid JSON', { fields: [{ field: 'body', message: 'malformed JSON' }] }));
      }
    });
  };
}

export function trimTrailingSlashes(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}
