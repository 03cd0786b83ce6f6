import type { PlatformRole } from '@gpuaas/auth';
import type { Page } from '../pagination.js';
import type { ProjectRole } from '../repositories/projects.js';
import type { UserStatus as DomainUserStatus } from '../repositories/users.js';
import type {
  ProjectRole as GqlProjectRole,
  SshKeyAlgorithm as GqlSshKeyAlgorithm,
  UserRole as GqlUserRole,
  UserStatus as GqlUserStatus,
} from '../generated/resolvers-types.js';

/** GraphQL enums are the REST values upper-cased, with `-` as `_` (`ssh-ed25519` → `SSH_ED25519`). */
const upper = <T extends string>(value: string) => value.toUpperCase().replace(/-/g, '_') as T;
const lower = <T extends string>(value: string) => value.toLowerCase() as T;

export const toUserRole = (role: PlatformRole): GqlUserRole => upper(role);
export const fromUserRole = (role: GqlUserRole): PlatformRole => lower(role);
export const toUserStatus = (status: DomainUserStatus): GqlUserStatus => upper(status);
export const fromUserStatus = (status: GqlUserStatus): DomainUserStatus => lower(status);
export const toProjectRole = (role: ProjectRole): GqlProjectRole => upper(role);
export const fromProjectRole = (role: GqlProjectRole): ProjectRole => lower(role);
export const toSshKeyAlgorithm = (algorithm: string): GqlSshKeyAlgorithm => upper(algorithm);

/** Relay connection of a service page. */
export function toConnection<T, N = T>(page: Page<T>, map: (node: T) => N = (node) => node as unknown as N) {
  return {
    edges: page.items.map((item) => ({ node: map(item.node), cursor: item.cursor })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  };
}

/** GraphQL's `null` for an omitted optional argument, as the services' `undefined`. */
export const orUndefined = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);
