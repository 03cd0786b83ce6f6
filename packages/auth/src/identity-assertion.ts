import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { AppError } from '@gpuaas/errors';
import { isPlatformRole, type PlatformRole } from './access-tokens.js';

/**
 * The gateway verifies the caller's access token once and forwards who it is to subgraphs in this header, as a
 * short HS256 JWT only holders of the shared secret can mint. Node lower-cases incoming header names.
 */
export const GATEWAY_IDENTITY_HEADER = 'X-Gateway-Identity';
export const IDENTITY_ISSUER = 'gpuaas-gateway';
export const IDENTITY_AUDIENCE = 'gpuaas-subgraphs';
export const IDENTITY_TTL_SECONDS = 60;
export const MIN_IDENTITY_SECRET_BYTES = 32;

export type IdentitySecret = string | Uint8Array;

export interface AuthenticatedIdentity {
  readonly userId: string;
  readonly role: PlatformRole;
  readonly sessionId: string;
  readonly tokenVersion: number;
  readonly correlationId: string;
}

/** A caller without a token, still proven to have come through the gateway. */
export interface AnonymousIdentity {
  readonly userId: null;
  readonly role: null;
  readonly sessionId: null;
  readonly tokenVersion: null;
  readonly correlationId: string;
}

export type GatewayIdentity = AuthenticatedIdentity | AnonymousIdentity;

export function anonymousIdentity(correlationId: string): AnonymousIdentity {
  return { userId: null, role: null, sessionId: null, tokenVersion: null, correlationId };
}

/** Turns the configured secret into key bytes, refusing one too short to resist guessing. Call it at start-up too. */
export function identityKey(secret: IdentitySecret): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < MIN_IDENTITY_SECRET_BYTES) {
    throw new TypeError(`The gateway identity secret must be at least ${MIN_IDENTITY_SECRET_BYTES} bytes`);
  }
  return bytes;
}

export interface SignIdentityOptions {
  readonly secret: IdentitySecret;
  readonly ttlSeconds?: number;
  readonly now?: Date;
}

/**
 * Anonymous callers get an assertion without `sub` (RFC 7519 allows no `null` subject); `verifyIdentity` turns
 * that back into `userId: null`, so a subgraph can tell an anonymous gateway call from a direct one.
 */
export async function signIdentity(identity: GatewayIdentity, options: SignIdentityOptions): Promise<string> {
  if (typeof identity.correlationId !== 'string' || identity.correlationId.length === 0) {
    throw new TypeError('correlationId must be a non-empty string');
  }
  const claims: JWTPayload =
    identity.userId === null
      ? { cid: identity.correlationId }
      : { sub: identity.userId, role: identity.role, sid: identity.sessionId, tv: identity.tokenVersion, cid: identity.correlationId };
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(IDENTITY_ISSUER)
    .setAudience(IDENTITY_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (options.ttlSeconds ?? IDENTITY_TTL_SECONDS))
    .sign(identityKey(options.secret));
}

export interface VerifyIdentityOptions {
  readonly secret: IdentitySecret;
  readonly clockToleranceSeconds?: number;
  readonly now?: Date;
}

function invalidAssertion(reason: string, cause?: unknown): AppError {
  return new AppError('unauthenticated', 'The gateway identity assertion is invalid', { reason }, { cause });
}

function identityFrom(payload: JWTPayload): GatewayIdentity | undefined {
  const { sub, role, sid, tv, cid } = payload;
  if (typeof cid !== 'string' || cid.length === 0) return undefined;
  if (sub === undefined) {
    return role === undefined && sid === undefined && tv === undefined ? anonymousIdentity(cid) : undefined;
  }
  if (typeof sub !== 'string' || sub.length === 0 || !isPlatformRole(role) || typeof sid !== 'string') return undefined;
  if (typeof tv !== 'number' || !Number.isSafeInteger(tv) || tv < 0) return undefined;
  return { userId: sub, role, sessionId: sid, tokenVersion: tv, correlationId: cid };
}

/** Checks the HMAC (constant-time inside WebCrypto), issuer, audience and the 60 s expiry. */
export async function verifyIdentity(assertion: string, options: VerifyIdentityOptions): Promise<GatewayIdentity> {
  const key = identityKey(options.secret);
  if (typeof assertion !== 'string' || assertion.length === 0 || assertion.length > 4_096) throw invalidAssertion('malformed');
  try {
    const { payload } = await jwtVerify(assertion, key, {
      algorithms: ['HS256'],
      issuer: IDENTITY_ISSUER,
      audience: IDENTITY_AUDIENCE,
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ['iat', 'exp'],
      ...(options.now ? { currentDate: options.now } : {}),
    });
    const identity = identityFrom(payload);
    if (!identity) throw invalidAssertion('invalid_claims');
    return identity;
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof errors.JWTExpired) throw invalidAssertion('expired', error);
    if (error instanceof errors.JWSSignatureVerificationFailed) throw invalidAssertion('bad_signature', error);
    if (error instanceof errors.JWTClaimValidationFailed) throw invalidAssertion('invalid_claims', error);
    throw invalidAssertion('malformed', error);
  }
}

/**
 * For subgraphs: the identity in the header, or null when the header is absent (a direct call, not through the
 * gateway; the subgraph decides whether to serve it). A present but bad header always throws.
 */
export async function readGatewayIdentity(
  headerValue: string | readonly string[] | null | undefined,
  options: VerifyIdentityOptions,
): Promise<GatewayIdentity | null> {
  if (headerValue === undefined || headerValue === null) return null;
  if (typeof headerValue !== 'string') {
    if (headerValue.length !== 1) throw invalidAssertion('malformed');
    return verifyIdentity(headerValue[0] ?? '', options);
  }
  return verifyIdentity(headerValue, options);
}
