import type { NextFunction, Request, Response } from 'express';
import { AppError } from '@gpuaas/errors';
import { GATEWAY_IDENTITY_HEADER, identityKey, readGatewayIdentity, type GatewayIdentity, type IdentitySecret } from '@gpuaas/auth';
import { correlationIdFrom, runWithContext } from '@gpuaas/telemetry';
import { sendGraphQLError } from './graphql-errors.js';

export type { GatewayIdentity, IdentitySecret } from '@gpuaas/auth';

/** Used outside production when GATEWAY_IDENTITY_SECRET is unset, so a dev stack works with no configuration. */
export const DEV_GATEWAY_IDENTITY_SECRET = 'gpuaas-dev-gateway-identity-secret-not-for-production';

/** What every subgraph resolver receives: who is calling (as the gateway verified it) and the request's correlation id. */
export interface SubgraphContext {
  readonly identity: GatewayIdentity;
  readonly correlationId: string;
}

const IDENTITY_LOCAL = 'gatewayIdentity';
const HEADER = GATEWAY_IDENTITY_HEADER.toLowerCase();

/**
 * Express guard for a subgraph's /graphql: a request without a valid, unexpired identity assertion minted by the
 * gateway (`X-Gateway-Identity`) is refused with 401 and a GraphQL-shaped `unauthenticated` body, so a subgraph
 * never serves a call that bypassed the gateway. The verified identity is kept for `subgraphContextOf`.
 */
export function requireGatewayIdentity(secret: IdentitySecret) {
  // Fails at start-up, not on the first request, when the secret is too short.
  identityKey(secret);
  return async (req: Request, res: Response, next: NextFunction) => {
    let identity: GatewayIdentity | null;
    try {
      identity = await readGatewayIdentity(req.headers[HEADER], { secret });
    } catch (error) {
      refuse(res, error instanceof AppError ? error : new AppError('unauthenticated', 'The gateway identity assertion is invalid'));
      return;
    }
    if (identity === null) {
      refuse(res, new AppError('unauthenticated', 'This service only answers requests that come through the gateway', { reason: 'missing' }));
      return;
    }
    res.locals[IDENTITY_LOCAL] = identity;
    // The signed correlation id wins over the plain header, so logs and errors here match the gateway's.
    res.locals['correlationId'] = identity.correlationId;
    res.setHeader('X-Correlation-Id', identity.correlationId);
    runWithContext({ correlationId: identity.correlationId }, () => next());
  };
}

/** The base resolver context of a request that passed `requireGatewayIdentity`. */
export function subgraphContextOf(res: Response): SubgraphContext {
  const identity = res.locals[IDENTITY_LOCAL] as GatewayIdentity | undefined;
  if (!identity) throw new Error('subgraphContextOf called on a request the gateway identity guard did not pass');
  return { identity, correlationId: identity.correlationId };
}

function refuse(res: Response, error: AppError): void {
  sendGraphQLError(res, error, (res.locals['correlationId'] as string | undefined) ?? correlationIdFrom(undefined));
}
