import { randomUUID } from 'node:crypto';
import { newSshPublicKey } from './ssh-keys.js';
import { restCall, type RestAnswer, type RestRequest } from './rest-client.js';
import type { AccessStack } from './stack.js';

export const PASSWORD = 'correct-horse-battery-staple-42';

/** Who calls: the project's owner, its members by role, a stranger, nobody, and a platform operator. */
export const actors = ['anonymous', 'other user', 'platform admin', 'project viewer', 'project member', 'project admin', 'owner'] as const;
export type Actor = (typeof actors)[number];

/** The project roles the member actors hold in the owner's project. */
export const projectRoleOf: Partial<Record<Actor, 'admin' | 'member' | 'viewer'>> = {
  'project admin': 'admin',
  'project member': 'member',
  'project viewer': 'viewer',
};

export interface Person {
  readonly id: string;
  readonly email: string;
  readonly token: string;
}

/** One REST call as an actor (anonymous sends no token); the answer is checked against the contract. */
export type Call = (operationId: string, method: string, path: string, request?: Omit<RestRequest, 'token'>) => Promise<RestAnswer>;

/**
 * The people and objects the authorization matrix runs against: the owner's shared project with one member of each
 * role, the owner's SSH key, a stranger and a platform admin (promoted in the database, as an operator bootstrap does).
 */
export class World {
  readonly people = new Map<Exclude<Actor, 'anonymous'>, Person>();
  projectId = '';
  sshKeyId = '';

  private constructor(readonly stack: AccessStack) {}

  static async create(stack: AccessStack): Promise<World> {
    const world = new World(stack);
    for (const actor of actors) if (actor !== 'anonymous') world.people.set(actor, await world.newPerson(actor));
    await stack.promoteToAdmin(world.person('platform admin').email);
    // A fresh login carries the new role in its access token.
    world.people.set('platform admin', { ...world.person('platform admin'), token: await world.login(world.person('platform admin').email) });
    world.projectId = await world.newProject();
    for (const [actor, role] of Object.entries(projectRoleOf)) await world.addMember(world.projectId, world.person(actor as Actor).email, role);
    const key = await world.as('owner')('createSshKey', 'POST', '/api/v1/ssh-keys', { body: { name: 'owner key', public_key: newSshPublicKey('owner@e2e').line } });
    world.sshKeyId = (key.json as { id: string }).id;
    return world;
  }

  person(actor: Actor): Person {
    const person = this.people.get(actor as Exclude<Actor, 'anonymous'>);
    if (!person) throw new Error(`${actor} is nobody`);
    return person;
  }

  as(actor: Actor): Call {
    const token = actor === 'anonymous' ? undefined : this.person(actor).token;
    return (operationId, method, path, request) => this.call(token, operationId, method, path, request);
  }

  /** One REST call with a given token (undefined: none). */
  call(token: string | undefined, operationId: string, method: string, path: string, request: Omit<RestRequest, 'token'> = {}): Promise<RestAnswer> {
    return restCall(this.stack.restUrl, operationId, method, path, { ...request, token });
  }

  /** A new user, logged in through registration. */
  async newPerson(label: string): Promise<Person> {
    const email = `${label.replace(/\W+/g, '-')}-${randomUUID().slice(0, 8)}@example.com`;
    const answer = await restCall(this.stack.restUrl, 'registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', {
      body: { email, password: PASSWORD, display_name: label },
    });
    if (answer.status !== 201) throw new Error(`registering ${email} answered ${answer.status}: ${answer.text}`);
    const { user, tokens } = answer.json as { user: { id: string }; tokens: { access_token: string } };
    return { id: user.id, email, token: tokens.access_token };
  }

  async login(email: string): Promise<string> {
    const answer = await restCall(this.stack.restUrl, 'loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email, password: PASSWORD } });
    if (answer.status !== 200) throw new Error(`logging in ${email} answered ${answer.status}: ${answer.text}`);
    return (answer.json as { access_token: string }).access_token;
  }

  /** A shared project of the owner's. */
  async newProject(): Promise<string> {
    const answer = await this.as('owner')('createProject', 'POST', '/api/v1/projects', { body: { name: `Project ${randomUUID().slice(0, 8)}` } });
    if (answer.status !== 201) throw new Error(`creating a project answered ${answer.status}: ${answer.text}`);
    return (answer.json as { id: string }).id;
  }

  async addMember(projectId: string, email: string, role: string): Promise<string> {
    const answer = await this.as('owner')('addProjectMember', 'POST', `/api/v1/projects/${projectId}/members`, { body: { email, role } });
    if (answer.status !== 201) throw new Error(`adding ${email} answered ${answer.status}: ${answer.text}`);
    return (answer.json as { user_id: string }).user_id;
  }
}
