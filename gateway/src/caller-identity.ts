import type { NextFunction, Request, Response } from 'express';
import { AppError } from '@gpuaas/errors';
import {
  anonymousIdentity,
  readBearerToken,
  verifyAccessToken,
  type AccessTokenClaims,
  type GatewayIdentity,
  type KeyResolver,
  type TokenRevocationStore,
} from '@gpuaas/auth';
import { sendGraphQLError } from '@gpuaas/service-kit';
import type { ClientIpResolver } from './client-ip.js';

export interface CallerAuthenticatorOptions {
  readonly keys: KeyResolver;
  readonly revocation: TokenRevocationStore;
  readonly issuer: string;
  readonly audience: string;
  /** How long a verified token is trusted without checking its signature again (default 60 s). */
  readonly verifiedCacheMs?: number;
  /** Most verified tokens remembered at once (default 10 000); the oldest is forgotten first. */
  readonly verifiedCacheSize?: number;
  /** Injected clock (ms since the epoch) for tests. */
  readonly now?: () => number;
}

export interface CallerRequest {
  readonly authorization: string | undefined;
  readonly correlationId: string;
  readonly ip: string | undefined;
}

/**
 * Who is calling: anonymous without an Authorization header; otherwise the access token must verify (signature
 * against access's JWKS, issuer, audience, expiry) and must not be revoked (one Redis MGET), or the whole request
 * fails. A bad token is never downgraded to anonymous: the client would see confusing `unauthenticated` errors on
 * single fields instead of learning that its token is the problem.
 */
export function createCallerAuthenticator(options: CallerAuthenticatorOptions) {
  const verify = verifiedTokenCache(options);
  return async (request: CallerRequest): Promise<GatewayIdentity> => {
    const { authorization, correlationId, ip } = request;
    if (authorization === undefined || authorization.trim() === '') return anonymousIdentity(correlationId, ip);
    const token = readBearerToken(authorization);
    if (token === null) {
      throw new AppError('unauthenticated', 'The Authorization header must carry a bearer access token', { reason: 'malformed' });
    }
    const claims = await verify(token);
    try {
      await options.revocation.assertNotRevoked(claims);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('service_unavailable', 'Token revocation state is unavailable; retry shortly', undefined, { cause: error });
    }
    return {
      userId: claims.userId,
      role: claims.role,
      sessionId: claims.sessionId,
      tokenVersion: claims.tokenVersion,
      correlationId,
      ...(ip === undefined ? {} : { ip }),
    };
  };
}

export type CallerAuthenticator = ReturnType<typeof createCallerAuthenticator>;

/**
 * A client sends the same access token for its whole life, and an EdDSA verification is the costliest step of a
 * request here, so a token that verified is remembered for a short while. Only the signature check is skipped:
 * expiry is still enforced on every request, and revocation is checked in Redis every time by the caller. The
 * short life bounds how long a token signed by a key withdrawn from the JWKS keeps working.
 */
function verifiedTokenCache(options: CallerAuthenticatorOptions) {
  const lifeMs = options.verifiedCacheMs ?? 60_000;
  const capacity = options.verifiedCacheSize ?? 10_000;
  const now = options.now ?? Date.now;
  const verified = new Map<string, { claims: AccessTokenClaims; trustedUntil: number }>();
  return async (token: string): Promise<AccessTokenClaims> => {
    const at = now();
    const known = verified.get(token);
    if (known && at < known.trustedUntil) {
      if (at >= known.claims.expiresAt.getTime()) {
        verified.delete(token);
        throw new AppError('unauthenticated', 'The access token has expired', { reason: 'expired' });
      }
      return known.claims;
    }
    verified.delete(token);
    const claims = await verifyAccessToken(token, { jwks: options.keys, issuer: options.issuer, audience: options.audience, now: new Date(at) });
    if (verified.size >= capacity) verified.delete(verified.keys().next().value!);
    verified.set(token, { claims, trustedUntil: at + lifeMs });
    return claims;
  };
}

const IDENTITY_LOCAL = 'callerIdentity';

/** Who is calling, or the catalog error that refuses the whole request (already logged). */
export type CallerIdentifier = (request: CallerRequest) => Promise<GatewayIdentity | AppError>;

/**
 * Express middleware in front of the gateway's `/graphql`: authenticates once per HTTP request and keeps the
 * identity for the GraphQL context; a refused credential answers the whole request with a GraphQL-shaped error.
 */
export function authenticateCaller(engine: { identify: CallerIdentifier; clientIp: ClientIpResolver }) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const correlationId = res.locals['correlationId'] as string;
    const identity = await engine.identify({
      authorization: req.headers.authorization,
      correlationId,
      ip: engine.clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']),
    });
    if (identity instanceof AppError) {
      sendGraphQLError(res, identity, correlationId);
      return;
    }
    res.locals[IDENTITY_LOCAL] = identity;
    next();
  };
}

/** The identity `authenticateCaller` established for this request. */
export function callerIdentityOf(res: Response): GatewayIdentity {
  const identity = res.locals[IDENTITY_LOCAL] as GatewayIdentity | undefined;
  // ci-allow canonical_error_guard: programming error (middleware order), never a client's doing; surfaces as internal_error
  if (!identity) throw new Error('callerIdentityOf called before authenticateCaller');
  return identity;
}

/** Query parameters that would carry a credential in a URL, where logs, proxies and browser history keep it. */
export const CREDENTIAL_QUERY_PARAMETERS = ['access_token', 'token', 'bearer', 'refresh_token', 'id_token', 'authorization'];

/**
 * Tokens are accepted only in the Authorization header. A request that puts one in the query string is refused
 * outright rather than ignored, so the client learns at once instead of running anonymously.
 */
export function refuseCredentialsInQuery() {
  return (req: Request, res: Response, next: NextFunction) => {
    const query = new URL(req.originalUrl, 'http://gateway.invalid').searchParams;
    const offending = CREDENTIAL_QUERY_PARAMETERS.filter((name) => query.has(name));
    if (offending.length === 0) {
      next();
      return;
    }
    const error = new AppError('validation_error', 'Credentials are accepted only in the Authorization header, never in a query string', {
      fields: offending.map((name) => ({ field: `query.${name}`, message: 'credentials must not be sent in a query string' })),
    });
    sendGraphQLError(res, error, res.locals['correlationId'] as string);
  };
}
