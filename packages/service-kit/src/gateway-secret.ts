import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { correlationIdFrom } from '@gpuaas/telemetry';

/**
 * How a subgraph knows a request came through the gateway: a shared secret header. It lives only here so that the
 * later switch to a signed identity (a JWT the gateway mints per request) changes one module.
 */
export const GATEWAY_SECRET_HEADER = 'x-gateway-secret';

/** Used outside production when GATEWAY_SHARED_SECRET is unset, so a dev stack works with no configuration. */
export const DEV_GATEWAY_SHARED_SECRET = 'gpuaas-dev-gateway-secret-do-not-use-in-production';

/** Constant-time comparison; hashing first gives both sides the same length so the length does not leak either. */
export function gatewaySecretMatches(expected: string, presented: string | string[] | undefined): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** Headers the gateway adds to every subgraph request. */
export function gatewayHeaders(secret: string): Record<string, string> {
  return { [GATEWAY_SECRET_HEADER]: secret };
}

/**
 * Express guard for a subgraph's /graphql: anything without the gateway's secret is refused with 401 and a
 * GraphQL-shaped body carrying the catalog code `unauthenticated`.
 */
export function requireGatewaySecret(secret: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (gatewaySecretMatches(secret, req.headers[GATEWAY_SECRET_HEADER])) {
      next();
      return;
    }
    const correlationId = (res.locals['correlationId'] as string | undefined) ?? correlationIdFrom(undefined);
    res.status(401).json({
      errors: [
        {
          message: 'This service only answers requests that come through the gateway',
          extensions: { code: 'unauthenticated', correlation_id: correlationId },
        },
      ],
    });
  };
}
