import { createHmac, timingSafeEqual } from 'node:crypto';
import type { JWTPayload } from 'jose';
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
  /** The client's address as the gateway determined it (for per-IP rate limits and audit); absent when unknown. */
  readonly ip?: string;
}

/** A caller without a token, still proven to have come through the gateway. */
export interface AnonymousIdentity {
  readonly userId: null;
  readonly role: null;
  readonly sessionId: null;
  readonly tokenVersion: null;
  readonly correlationId: string;
  readonly ip?: string;
}

export type GatewayIdentity = AuthenticatedIdentity | AnonymousIdentity;

export function anonymousIdentity(correlationId: string, ip?: string): AnonymousIdentity {
  return { userId: null, role: null, sessionId: null, tokenVersion: null, correlationId, ...(ip === undefined ? {} : { ip }) };
}

/** Longest `ip` claim accepted: an IPv6 address with a zone id fits well within it. */
const MAX_IP_LENGTH = 64;

function isIpClaim(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_IP_LENGTH;
}

/** Turns the configured secret into key bytes, refusing one too short to resist guessing. Call it at start-up too. */
export function identityKey(secret: IdentitySecret): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < MIN_IDENTITY_SECRET_BYTES) {
    throw new TypeError(`The gateway identity secret must be at least ${MIN_IDENTITY_SECRET_BYTES} bytes`);
  }
  return bytes;
}

const PROTECTED_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');

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
  if (identity.ip !== undefined && !isIpClaim(identity.ip)) throw new TypeError('ip must be a non-empty string of at most 64 characters');
  const caller: JWTPayload =
    identity.userId === null
      ? { cid: identity.correlationId }
      : { sub: identity.userId, role: identity.role, sid: identity.sessionId, tv: identity.tokenVersion, cid: identity.correlationId };
  const claims: JWTPayload = identity.ip === undefined ? caller : { ...caller, ip: identity.ip };
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const payload = {
    ...claims,
    iss: IDENTITY_ISSUER,
    aud: IDENTITY_AUDIENCE,
    iat: issuedAt,
    exp: issuedAt + (options.ttlSeconds ?? IDENTITY_TTL_SECONDS),
  };
  // Signed with node:crypto rather than jose: the gateway signs once per subgraph fetch, and a synchronous HMAC
  // costs a few µs where a WebCrypto job costs a few hundred on a busy host. The output is a plain HS256 JWS
  // that `verifyIdentity` (jose) checks like any other.
  const signingInput = `${PROTECTED_HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = createHmac('sha256', identityKey(options.secret)).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
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
  const { sub, role, sid, tv, cid, ip } = payload;
  if (typeof cid !== 'string' || cid.length === 0) return undefined;
  if (ip !== undefined && !isIpClaim(ip)) return undefined;
  const address = ip === undefined ? {} : { ip };
  if (sub === undefined) {
    return role === undefined && sid === undefined && tv === undefined ? anonymousIdentity(cid, ip) : undefined;
  }
  if (typeof sub !== 'string' || sub.length === 0 || !isPlatformRole(role) || typeof sid !== 'string') return undefined;
  if (typeof tv !== 'number' || !Number.isSafeInteger(tv) || tv < 0) return undefined;
  return { userId: sub, role, sessionId: sid, tokenVersion: tv, correlationId: cid, ...address };
}

/**
 * Checks the HMAC (constant-time), issuer, audience and the 60 s expiry. Verified with node:crypto in the same
 * call, as it is signed: every subgraph request carries one, and a WebCrypto job per request (jose) cost more
 * than the rest of checking it. Accepts exactly the JWS the gateway mints (and any compact HS256 JWT with the same
 * claims): anything else is `malformed`, a wrong MAC `bad_signature`, a missing or wrong claim `invalid_claims`.
 */
export async function verifyIdentity(assertion: string, options: VerifyIdentityOptions): Promise<GatewayIdentity> {
  const key = identityKey(options.secret);
  if (typeof assertion !== 'string' || assertion.length === 0 || assertion.length > 4_096) throw invalidAssertion('malformed');
  const parts = assertion.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw invalidAssertion('malformed');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = jsonObjectOf(encodedHeader);
  // `crit` names extensions the verifier must understand; this one understands none.
  if (!header || header['alg'] !== 'HS256' || 'crit' in header || ('b64' in header && header['b64'] !== true)) throw invalidAssertion('malformed');
  const expected = createHmac('sha256', key).update(`${encodedHeader}.${encodedPayload}`).digest();
  const signature = Buffer.from(encodedSignature, 'base64url');
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw invalidAssertion('bad_signature');
  const payload = jsonObjectOf(encodedPayload);
  if (!payload) throw invalidAssertion('malformed');
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.clockToleranceSeconds ?? 5;
  const { iss, aud, iat, exp, nbf } = payload;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (iss !== IDENTITY_ISSUER || !audiences.includes(IDENTITY_AUDIENCE)) throw invalidAssertion('invalid_claims');
  if (typeof iat !== 'number' || typeof exp !== 'number' || (nbf !== undefined && typeof nbf !== 'number')) throw invalidAssertion('invalid_claims');
  if (typeof nbf === 'number' && nbf > now + tolerance) throw invalidAssertion('invalid_claims');
  if (exp <= now - tolerance) throw invalidAssertion('expired');
  const identity = identityFrom(payload as JWTPayload);
  if (!identity) throw invalidAssertion('invalid_claims');
  return identity;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function jsonObjectOf(encoded: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
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
