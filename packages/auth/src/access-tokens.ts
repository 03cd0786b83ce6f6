import { randomUUID } from 'node:crypto';
import { errors, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError } from '@gpuaas/errors';
import type { KeyResolver } from './jwks.js';
import { SIGNING_ALGORITHMS, type SigningKey } from './signing-keys.js';

/** Platform roles (`access.users.role`); project roles are checked by the subgraphs, not carried in tokens. */
export const PLATFORM_ROLES = ['user', 'admin'] as const;
export type PlatformRole = (typeof PLATFORM_ROLES)[number];

export function isPlatformRole(value: unknown): value is PlatformRole {
  return typeof value === 'string' && (PLATFORM_ROLES as readonly string[]).includes(value);
}

/** RFC 9068 media type in the `typ` header, so no other JWT of ours (or an ID token) passes as an access token. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface IssueAccessTokenInput {
  readonly key: SigningKey;
  readonly userId: string;
  readonly role: PlatformRole;
  /** `access.users.token_version` now; bumping it in the database (and Redis) revokes this token. */
  readonly tokenVersion: number;
  /** The refresh-token family id, so logout can revoke this token with its session. */
  readonly sessionId: string;
  readonly ttlSeconds: number;
  readonly issuer: string;
  readonly audience: string;
  readonly now?: Date;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly tokenId: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** Seconds until expiry: the contract's `expires_in`. */
  readonly expiresIn: number;
}

export interface AccessTokenClaims {
  readonly userId: string;
  readonly role: PlatformRole;
  readonly tokenVersion: number;
  readonly sessionId: string;
  readonly tokenId: string;
  readonly keyId: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

/** Why a token was refused, in `details.reason`; never the library's own message. */
export type AccessTokenRejection =
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'unknown_kid'
  | 'unsupported_algorithm'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_type'
  | 'invalid_claims';

interface VerifyCommon {
  readonly issuer: string;
  readonly audience: string;
  /** Leeway for clock skew between the issuer and this verifier (default 5 s). */
  readonly clockToleranceSeconds?: number;
  readonly now?: Date;
}

export type VerifyAccessTokenOptions = VerifyCommon &
  ({ readonly jwks: KeyResolver; readonly keyResolver?: never } | { readonly keyResolver: JWTVerifyGetKey; readonly jwks?: never });

/** Longest token we even try to parse; ours are ~400 bytes. */
const MAX_TOKEN_LENGTH = 8_192;

const importedKeys = new WeakMap<SigningKey, Promise<CryptoKey | Uint8Array>>();

function privateKeyOf(key: SigningKey): Promise<CryptoKey | Uint8Array> {
  let imported = importedKeys.get(key);
  if (!imported) {
    imported = importJWK(key.privateJwk, key.algorithm);
    importedKeys.set(key, imported);
  }
  return imported;
}

function requireText(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}

export async function issueAccessToken(input: IssueAccessTokenInput): Promise<IssuedAccessToken> {
  requireText('userId', input.userId);
  requireText('sessionId', input.sessionId);
  requireText('issuer', input.issuer);
  requireText('audience', input.audience);
  if (!isPlatformRole(input.role)) throw new TypeError(`Unknown platform role ${String(input.role)}`);
  if (!Number.isSafeInteger(input.tokenVersion) || input.tokenVersion < 0) throw new TypeError('tokenVersion must be a non-negative integer');
  if (!Number.isSafeInteger(input.ttlSeconds) || input.ttlSeconds <= 0) throw new TypeError('ttlSeconds must be a positive integer');

  const issuedAtSeconds = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const expiresAtSeconds = issuedAtSeconds + input.ttlSeconds;
  const tokenId = randomUUID();
  const token = await new SignJWT({ role: input.role, tv: input.tokenVersion, sid: input.sessionId })
    .setProtectedHeader({ alg: input.key.algorithm, kid: input.key.kid, typ: ACCESS_TOKEN_TYPE })
    .setSubject(input.userId)
    .setIssuer(input.issuer)
    .setAudience(input.audience)
    .setJti(tokenId)
    .setIssuedAt(issuedAtSeconds)
    .setExpirationTime(expiresAtSeconds)
    .sign(await privateKeyOf(input.key));
  return {
    token,
    tokenId,
    issuedAt: new Date(issuedAtSeconds * 1000),
    expiresAt: new Date(expiresAtSeconds * 1000),
    expiresIn: input.ttlSeconds,
  };
}

/** Marks a failure to obtain keys (JWKS endpoint down) so it is not mistaken for a bad token. */
class KeyResolutionFailed extends Error {}

function guardedResolver(resolve: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await resolve(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported) {
        throw error;
      }
      throw new KeyResolutionFailed('verification keys unavailable', { cause: error });
    }
  };
}

function rejection(reason: AccessTokenRejection, cause?: unknown): AppError {
  const message = reason === 'expired' ? 'The access token has expired' : 'The access token is invalid';
  return new AppError('unauthenticated', message, { reason }, { cause });
}

function reasonFor(error: unknown): AccessTokenRejection {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_kid';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'unsupported_algorithm';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'wrong_issuer';
      case 'aud':
        return 'wrong_audience';
      case 'typ':
        return 'wrong_type';
      case 'nbf':
        return 'not_yet_valid';
      default:
        return 'invalid_claims';
    }
  }
  return 'malformed';
}

function claimsFrom(payload: JWTPayload, keyId: string): AccessTokenClaims | undefined {
  const { sub, role, tv, sid, jti, iat, exp } = payload;
  if (typeof sub !== 'string' || sub.length === 0 || typeof sid !== 'string' || sid.length === 0) return undefined;
  if (typeof jti !== 'string' || typeof iat !== 'number' || typeof exp !== 'number') return undefined;
  if (!isPlatformRole(role) || typeof tv !== 'number' || !Number.isSafeInteger(tv) || tv < 0) return undefined;
  return {
    userId: sub,
    role,
    tokenVersion: tv,
    sessionId: sid,
    tokenId: jti,
    keyId,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
  };
}

/**
 * Verifies signature, `typ`, issuer, audience and expiry, then the claim shapes. Every failure is
 * `AppError('unauthenticated')` with `details.reason`; an unreachable key set is `service_unavailable` instead,
 * since the token may well be good.
 */
export async function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<AccessTokenClaims> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw rejection('malformed');
  const resolver = options.jwks ? options.jwks.getKey : options.keyResolver;
  try {
    const { payload, protectedHeader } = await jwtVerify(token, guardedResolver(resolver), {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [...SIGNING_ALGORITHMS],
      typ: ACCESS_TOKEN_TYPE,
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      ...(options.now ? { currentDate: options.now } : {}),
    });
    const claims = claimsFrom(payload, protectedHeader.kid ?? '');
    if (!claims) throw rejection('invalid_claims');
    return claims;
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof KeyResolutionFailed) {
      throw new AppError('service_unavailable', 'Token verification keys are unavailable', undefined, { cause: error.cause });
    }
    throw rejection(reasonFor(error), error);
  }
}

/** The token from `Authorization: Bearer <token>`, or null when the header is absent or another scheme. */
export function readBearerToken(authorization: string | null | undefined): string | null {
  if (!authorization) return null;
  const match = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i.exec(authorization);
  return match?.[1] ?? null;
}
