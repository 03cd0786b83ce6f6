import type { RootValue } from './stub-gateway.js';

/** Answers of the access subgraph as the gateway would relay them: camelCase fields, UPPER_CASE enums. */
export const ids = {
  ada: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e0f',
  grace: '01936f61-0a1b-7c2d-8e3f-4a5b6c7d8e9f',
  personalProject: '01936f5e-8c4b-7a10-8b22-3c4d5e6f7a81',
  sharedProject: '01936f60-1d2e-7f3a-9b4c-5d6e7f8a9b0c',
  sshKey: '01936f5e-9a10-7c3e-8d21-5a6b7c8d9e10',
} as const;

const at = '2026-11-27T12:00:00Z';

export function connection<Node>(nodes: readonly Node[], hasNextPage = false) {
  return {
    edges: nodes.map((node, index) => ({ node, cursor: `cursor-${index}` })),
    pageInfo: { hasNextPage, endCursor: nodes.length > 0 ? `cursor-${nodes.length - 1}` : null },
  };
}

export const adaAsOwner = { userId: ids.ada, email: 'ada@example.com', displayName: 'Ada Lovelace', role: 'OWNER', addedAt: at };
export const graceAsMember = { userId: ids.grace, email: 'grace@example.com', displayName: 'Grace Hopper', role: 'MEMBER', addedAt: at };

export const sharedProject = {
  id: ids.sharedProject,
  name: 'Vision Research',
  slug: 'vision-research',
  ownerId: ids.ada,
  owner: adaAsOwner,
  personal: false,
  createdAt: at,
  myRole: 'OWNER',
  memberCount: 2,
  members: () => connection([adaAsOwner, graceAsMember]),
};

export const personalProject = {
  ...sharedProject,
  id: ids.personalProject,
  name: 'Ada Lovelace',
  slug: null,
  personal: true,
  memberCount: 1,
  members: () => connection([adaAsOwner]),
};

export const ada = {
  id: ids.ada,
  email: 'ada@example.com',
  displayName: 'Ada Lovelace',
  role: 'USER',
  status: 'ACTIVE',
  createdAt: at,
  authMethods: [
    { type: 'PASSWORD', provider: null, linkedAt: at },
    { type: 'OIDC', provider: 'google', linkedAt: at },
  ],
  personalProjectId: ids.personalProject,
  lastLoginAt: at,
  suspendedAt: null,
  suspensionReason: null,
  projectCount: 2,
  sshKeyCount: 1,
  projects: () => connection([personalProject, sharedProject]),
};

export const sshKey = {
  id: ids.sshKey,
  name: 'laptop',
  algorithm: 'ECDSA_SHA2_NISTP256',
  bits: 256,
  fingerprint: 'SHA256:2T7q3c8cS0m7n8rB2Jq4fD1a6l9dWk0p5bq8ZxYvN1E',
  publicKey: 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= ada@laptop',
  createdAt: at,
};

export const tokens = {
  accessToken: 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZGEifQ.c2ln',
  tokenType: 'Bearer',
  expiresIn: 900,
  refreshToken: 'rt_01936f5e8c4a7b3e9d215a6b7c8d9e0f.Zm9vYmFy',
  refreshExpiresIn: 2_592_000,
};

export const authorizationUrl = 'http://127.0.0.1:9999/authorize?client_id=gpuaas&state=abcdefghijklmnop&code_challenge_method=S256';

type Input = { input: Record<string, unknown> };

/** A root value answering every access field; tests replace single fields to script errors. */
export function accessRoot(): RootValue {
  return {
    me: () => ada,
    oidcProviders: () => connection([{ id: 'google', displayName: 'Google' }]),
    sshKeys: () => connection([sshKey], true),
    sshKey: () => sshKey,
    projects: () => connection([personalProject, sharedProject]),
    project: () => sharedProject,
    adminUsers: () => connection([{ ...ada, status: 'SUSPENDED', suspendedAt: at, suspensionReason: 'Chargeback under investigation' }]),
    adminUser: () => ada,
    register: () => ({ user: ada, tokens }),
    login: () => tokens,
    requestPasswordReset: () => true,
    confirmPasswordReset: () => true,
    refreshTokens: () => tokens,
    logout: () => true,
    startOidcLogin: () => ({ authorizationUrl, state: 'abcdefghijklmnop' }),
    completeOidcLogin: () => tokens,
    updateMe: ({ input }: Input) => ({ ...ada, displayName: input['displayName'] }),
    changePassword: () => true,
    createSshKey: ({ input }: Input) => ({ ...sshKey, name: input['name'] }),
    deleteSshKey: () => true,
    createProject: ({ input }: Input) => ({ ...sharedProject, name: input['name'], slug: input['slug'] ?? null }),
    updateProject: ({ input }: Input) => ({ ...sharedProject, ...(input['name'] ? { name: input['name'] } : {}), ...(input['clearSlug'] ? { slug: null } : {}) }),
    deleteProject: () => true,
    addProjectMember: ({ input }: Input) => ({ ...graceAsMember, role: input['role'] }),
    updateProjectMember: ({ input }: Input) => ({ ...graceAsMember, role: input['role'] }),
    removeProjectMember: () => true,
    adminUpdateUser: ({ input }: Input) => ({ ...ada, ...(input['status'] ? { status: input['status'] } : {}), ...(input['role'] ? { role: input['role'] } : {}) }),
    adminRevokeUserSessions: ({ input }: Input) => ({ userId: input['id'], revokedSessions: 3 }),
  };
}
