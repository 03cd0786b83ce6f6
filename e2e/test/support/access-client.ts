/** What a front door answers, normalised so one scenario can run through REST and through GraphQL alike. */
export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string;
}

export interface Registered {
  readonly userId: string;
  readonly personalProjectId: string;
  readonly tokens: Tokens;
}

export interface Me {
  readonly id: string;
  readonly email: string;
  /** lower-case, as REST spells it */
  readonly role: string;
  readonly status: string;
  readonly authMethods: ReadonlyArray<{ readonly type: string; readonly provider: string | null }>;
}

export interface Project {
  readonly id: string;
  readonly name: string;
  readonly myRole: string;
}

export interface Member {
  readonly userId: string;
  readonly email: string;
  readonly role: string;
}

export interface SshKey {
  readonly id: string;
  readonly name: string;
  readonly fingerprint: string;
}

/** One front door (REST or GraphQL) offering the access operations the scenario plays. */
export interface AccessClient {
  readonly door: 'REST' | 'GraphQL';
  register(email: string, password: string, displayName: string): Promise<Registered>;
  login(email: string, password: string): Promise<Tokens>;
  refresh(refreshToken: string): Promise<Tokens>;
  me(accessToken: string): Promise<Me>;
  createProject(accessToken: string, name: string): Promise<Project>;
  addMember(accessToken: string, projectId: string, email: string, role: string): Promise<Member>;
  listMembers(accessToken: string, projectId: string): Promise<Member[]>;
  addSshKey(accessToken: string, name: string, publicKey: string): Promise<SshKey>;
  listSshKeys(accessToken: string): Promise<SshKey[]>;
  logout(accessToken: string): Promise<void>;
  /** The provider's authorization URL the browser is sent to. */
  startOidcLogin(provider: string, redirectUri: string, loginHint: string): Promise<string>;
  /** `iss` is what the provider put beside code and state (RFC 9207); a door forwards it where it can. */
  completeOidcLogin(provider: string, code: string, state: string, iss: string | null): Promise<Tokens>;
  suspendUser(adminAccessToken: string, userId: string, reason: string, correlationId: string): Promise<{ status: string }>;
}

/** A refusal from either door, with its catalog code (and, through REST, the HTTP status). */
export class DoorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(`${code}: ${message}`);
    this.name = 'DoorError';
  }
}
