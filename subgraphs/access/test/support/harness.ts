import { randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  GATEWAY_IDENTITY_HEADER,
  anonymousIdentity,
  remoteJwks,
  signIdentity,
  verifyAccessToken,
  type AccessTokenClaims,
  type AuthenticatedIdentity,
  type GatewayIdentity,
} from '@gpuaas/auth';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import type { HttpService } from '@gpuaas/service-kit';
import { JWKS_PATH, createAccessSubgraph, loadAccessConfig, type AccessConfig } from '../../src/index.js';

export const IDENTITY_SECRET = 'access-subgraph-test-identity-secret-0123456789';

export interface GraphQLError {
  message: string;
  extensions?: { code?: string; correlation_id?: string; details?: Record<string, unknown> & { fields?: { field: string; message: string }[] } };
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data: T | null | undefined;
  errors: GraphQLError[] | undefined;
}

export interface TokenPair {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

export interface AccessHarness {
  readonly url: string;
  readonly config: AccessConfig;
  readonly pool: pg.Pool;
  readonly redis: TestRedis;
  /** Sends a GraphQL operation the way the gateway does: with a signed identity (anonymous unless given). */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, identity?: GatewayIdentity): Promise<GraphQLResponse<T>>;
  /** What the gateway would forward for this access token: its verified claims (checked against our JWKS). */
  identityOf(accessToken: string, ip?: string): Promise<AuthenticatedIdentity>;
  claimsOf(accessToken: string): Promise<AccessTokenClaims>;
  anonymous(ip?: string): GatewayIdentity;
  close(): Promise<void>;
}

/**
 * One access subgraph on a fresh database and a private Redis key prefix: what every test file drives over HTTP.
 * `env` adds or overrides configuration (policies, OIDC providers).
 */
export async function startAccess(env: Record<string, string> = {}): Promise<AccessHarness> {
  const db: TestDatabase = await createTestDatabase();
  const redis = await createTestRedis();
  const config = loadAccessConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    GATEWAY_IDENTITY_SECRET: IDENTITY_SECRET,
    ...env,
  });
  let service: HttpService;
  try {
    service = await createAccessSubgraph(config);
  } catch (error) {
    await redis.cleanup();
    await db.drop();
    throw error;
  }
  const pool = new pg.Pool({ connectionString: db.url, max: 3 });
  const jwks = remoteJwks(`${service.url}${JWKS_PATH}`);
  const claimsOf = (token: string) => verifyAccessToken(token, { jwks, issuer: config.tokenIssuer, audience: config.tokenAudience });

  return {
    url: service.url,
    config,
    pool,
    redis,
    async gql<T>(query: string, variables: Record<string, unknown> = {}, identity: GatewayIdentity = anonymousIdentity(randomUUID())) {
      const response = await fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [GATEWAY_IDENTITY_HEADER]: await signIdentity(identity, { secret: IDENTITY_SECRET }),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: T | null; errors?: GraphQLError[] };
      return { status: response.status, data: body.data, errors: body.errors };
    },
    async identityOf(accessToken, ip) {
      const claims = await claimsOf(accessToken);
      return {
        userId: claims.userId,
        role: claims.role,
        sessionId: claims.sessionId,
        tokenVersion: claims.tokenVersion,
        correlationId: randomUUID(),
        ...(ip === undefined ? {} : { ip }),
      };
    },
    claimsOf,
    anonymous: (ip) => anonymousIdentity(randomUUID(), ip),
    async close() {
      await service.close();
      await pool.end();
      await redis.cleanup();
      await db.drop();
    },
  };
}

/** The single error of a failed operation (fails the test when there is not exactly one). */
export function onlyError(response: GraphQLResponse<unknown>): GraphQLError {
  if (response.errors?.length !== 1) throw new Error(`expected exactly one error, got ${JSON.stringify(response.errors ?? response.data)}`);
  return response.errors[0] as GraphQLError;
}

export function errorCode(response: GraphQLResponse<unknown>): string | undefined {
  return onlyError(response).extensions?.code;
}

/** Data of an operation that must have succeeded. */
export function dataOf<T>(response: GraphQLResponse<T>): T {
  if (response.errors?.length || !response.data) throw new Error(`operation failed: ${JSON.stringify(response.errors)}`);
  return response.data;
}

let sequence = 0;
/** An email no other test uses. */
export function uniqueEmail(label = 'user'): string {
  sequence += 1;
  return `${label}-${sequence}-${randomUUID().slice(0, 8)}@example.com`;
}

/** A distinct client address per test keeps per-IP rate limits from leaking between tests. */
export function uniqueIp(): string {
  sequence += 1;
  return `198.51.100.${sequence % 250}`;
}

export const PASSWORD = 'correct-horse-battery-staple-42';

/** A compact JWS: what a successful login or refresh hands out as its access token. */
export const ACCESS_JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

export const TOKEN_FIELDS = 'accessToken tokenType expiresIn refreshToken refreshExpiresIn';

export const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) {
    user { id email displayName role status personalProjectId authMethods { type provider linkedAt } projectCount sshKeyCount lastLoginAt }
    tokens { ${TOKEN_FIELDS} }
  }
}`;

export const LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) { ${TOKEN_FIELDS} } }`;

export interface RegisteredUser {
  id: string;
  email: string;
  personalProjectId: string;
  tokens: TokenPair;
  identity: AuthenticatedIdentity;
}

/** Registers a user and answers their first tokens with the identity the gateway would forward for them. */
export async function registerUser(
  harness: AccessHarness,
  options: { email?: string; displayName?: string; password?: string } = {},
): Promise<RegisteredUser> {
  const email = options.email ?? uniqueEmail();
  const response = await harness.gql<{ register: { user: { id: string; personalProjectId: string }; tokens: TokenPair } }>(REGISTER, {
    input: { email, password: options.password ?? PASSWORD, displayName: options.displayName ?? 'Test User' },
  }, harness.anonymous(uniqueIp()));
  const { user, tokens } = dataOf(response).register;
  return { id: user.id, email, personalProjectId: user.personalProjectId, tokens, identity: await harness.identityOf(tokens.accessToken) };
}

/** Makes a user a platform admin directly in the database (there is no bootstrap operation) and logs them in again. */
export async function promoteToAdmin(harness: AccessHarness, user: RegisteredUser): Promise<RegisteredUser> {
  await harness.pool.query("UPDATE access.users SET role = 'admin' WHERE id = $1", [user.id]);
  const response = await harness.gql<{ login: TokenPair }>(LOGIN, { input: { email: user.email, password: PASSWORD } }, harness.anonymous(uniqueIp()));
  const tokens = dataOf(response).login;
  return { ...user, tokens, identity: await harness.identityOf(tokens.accessToken) };
}
