import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, errorCode, onlyError, registerUser, startAccess, type AccessHarness, type RegisteredUser } from './support/harness.js';

const run = promisify(execFile);

interface GeneratedKey {
  /** The .pub line, comment included. */
  line: string;
  /** What `ssh-keygen -lf` prints as the fingerprint. */
  fingerprint: string;
  bits: number;
}

let dir: string;
let access: AccessHarness;
const keys: Record<string, GeneratedKey> = {};

async function generate(name: string, args: string[]): Promise<GeneratedKey> {
  const path = join(dir, name);
  await run('ssh-keygen', ['-q', ...args, '-N', '', '-C', `${name}@test`, '-f', path]);
  const line = (await readFile(`${path}.pub`, 'utf8')).trim();
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`]);
  const [bits, fingerprint] = stdout.trim().split(/\s+/);
  return { line, fingerprint: fingerprint ?? '', bits: Number(bits) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-ssh-keys-'));
  const specs: Record<string, string[]> = {
    ed25519: ['-t', 'ed25519'],
    ed25519b: ['-t', 'ed25519'],
    ecdsa256: ['-t', 'ecdsa', '-b', '256'],
    ecdsa384: ['-t', 'ecdsa', '-b', '384'],
    ecdsa521: ['-t', 'ecdsa', '-b', '521'],
    rsa2048: ['-t', 'rsa', '-b', '2048'],
    rsa1024: ['-t', 'rsa', '-b', '1024'],
  };
  const [harness] = await Promise.all([
    startAccess(),
    ...Object.entries(specs).map(async ([name, args]) => {
      keys[name] = await generate(name, args);
    }),
  ]);
  access = harness;
});

afterAll(async () => {
  await access?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const CREATE = 'mutation ($input: CreateSshKeyInput!) { createSshKey(input: $input) { id name algorithm bits fingerprint publicKey createdAt } }';
const LIST = 'query ($first: Int, $after: String) { sshKeys(first: $first, after: $after) { edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }';
const GET = 'query ($id: ID!) { sshKey(id: $id) { id name } }';
const DELETE = 'mutation ($id: ID!) { deleteSshKey(input: { id: $id }) }';

interface SshKeyResult {
  id: string;
  name: string;
  algorithm: string;
  bits: number;
  fingerprint: string;
  publicKey: string;
}

const key = (name: string) => keys[name] as GeneratedKey;

async function addKey(user: RegisteredUser, name: string, publicKey: string) {
  return access.gql<{ createSshKey: SshKeyResult }>(CREATE, { input: { name, publicKey } }, user.identity);
}

describe('adding SSH keys', () => {
  it.each([
    ['ed25519', 'SSH_ED25519', 256],
    ['ecdsa256', 'ECDSA_SHA2_NISTP256', 256],
    ['ecdsa384', 'ECDSA_SHA2_NISTP384', 384],
    ['ecdsa521', 'ECDSA_SHA2_NISTP521', 521],
    ['rsa2048', 'SSH_RSA', 2048],
  ])('accepts a real %s key with the fingerprint ssh-keygen prints', async (name, algorithm, bits) => {
    const user = await registerUser(access);
    const created = dataOf(await addKey(user, `  ${name} laptop `, key(name).line)).createSshKey;
    expect(created).toMatchObject({ name: `${name} laptop`, algorithm, bits, fingerprint: key(name).fingerprint });
    expect(key(name).bits).toBe(bits);
    // Stored without the comment: the line that gets installed in authorized_keys.
    expect(created.publicKey).toBe(key(name).line.split(' ').slice(0, 2).join(' '));
  });

  it('refuses a key the caller already has, under another name', async () => {
    const user = await registerUser(access);
    dataOf(await addKey(user, 'laptop', key('ed25519').line));
    const error = onlyError(await addKey(user, 'desktop', key('ed25519').line));
    expect(error.extensions?.code).toBe('already_exists');
    expect(error.extensions?.details?.fields?.[0]?.field).toBe('body.public_key');
  });

  it('refuses a second key with the same name', async () => {
    const user = await registerUser(access);
    dataOf(await addKey(user, 'laptop', key('ed25519').line));
    const error = onlyError(await addKey(user, 'laptop', key('ed25519b').line));
    expect(error.extensions?.code).toBe('already_exists');
    expect(error.extensions?.details?.fields).toEqual([{ field: 'body.name', message: 'is taken' }]);
  });

  it('lets another user add the same public key', async () => {
    const first = await registerUser(access);
    const second = await registerUser(access);
    dataOf(await addKey(first, 'shared', key('ecdsa256').line));
    expect(dataOf(await addKey(second, 'shared', key('ecdsa256').line)).createSshKey.fingerprint).toBe(key('ecdsa256').fingerprint);
  });

  const dsaBlob = Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-dss'), Buffer.alloc(16, 1)]).toString('base64');
  it.each([
    ['an RSA key under 2048 bits', () => key('rsa1024').line, /at least 2048 bits/],
    ['a DSA key', () => `ssh-dss ${dsaBlob} old@host`, /DSA keys are no longer accepted/],
    ['a key cut short', () => key('ed25519').line.slice(0, 40), /base64|truncated|must be/],
    ['a key whose blob is another type than its line says', () => key('ed25519').line.replace('ssh-ed25519', 'ssh-rsa'), /the key data is a ssh-ed25519 key/],
    ['a private key', () => '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----', /private key/],
    ['text that is no key at all', () => 'hello world', /not valid base64|not accepted/],
  ])('refuses %s with details on body.public_key', async (_label, line, reason) => {
    const user = await registerUser(access);
    const error = onlyError(await addKey(user, 'bad', line()));
    expect(error.extensions?.code).toBe('validation_error');
    const fields = error.extensions?.details?.fields ?? [];
    expect(fields.map((issue) => issue.field)).toEqual(['body.public_key']);
    expect(fields[0]?.message).toMatch(reason);
  });

  it('reports an empty name and a bad key together', async () => {
    const user = await registerUser(access);
    const error = onlyError(await addKey(user, '   ', 'nonsense'));
    expect(error.extensions?.details?.fields?.map((issue) => issue.field)).toEqual(['body.name', 'body.public_key']);
  });
});

describe('reading and deleting SSH keys', () => {
  it('lists only the caller’s keys, newest first, one page at a time', async () => {
    const user = await registerUser(access);
    const stranger = await registerUser(access);
    const names = ['ed25519', 'ecdsa384', 'rsa2048'];
    for (const name of names) dataOf(await addKey(user, name, key(name).line));
    dataOf(await addKey(stranger, 'theirs', key('ecdsa521').line));

    type Listing = { sshKeys: { edges: { cursor: string; node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const first = dataOf(await access.gql<Listing>(LIST, { first: 2 }, user.identity)).sshKeys;
    expect(first.edges.map((edge) => edge.node.name)).toEqual(['rsa2048', 'ecdsa384']);
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[1]?.cursor });
    const second = dataOf(await access.gql<Listing>(LIST, { first: 2, after: first.pageInfo.endCursor }, user.identity)).sshKeys;
    expect(second.edges.map((edge) => edge.node.name)).toEqual(['ed25519']);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses page sizes and cursors it did not issue', async () => {
    const user = await registerUser(access);
    const tooMany = onlyError(await access.gql(LIST, { first: 201 }, user.identity));
    expect(tooMany.extensions?.details?.fields).toEqual([{ field: 'query.limit', message: 'must be an integer from 1 to 200' }]);
    expect(onlyError(await access.gql(LIST, { after: 'bm90LWEtY3Vyc29y' }, user.identity)).extensions?.details?.fields?.[0]?.field).toBe('query.cursor');
  });

  it("answers another user's key exactly like a missing one, and deletes only the caller's", async () => {
    const owner = await registerUser(access);
    const stranger = await registerUser(access);
    const created = dataOf(await addKey(owner, 'mine', key('ed25519').line)).createSshKey;

    expect(dataOf(await access.gql<{ sshKey: { id: string } }>(GET, { id: created.id }, owner.identity)).sshKey.id).toBe(created.id);
    const foreign = onlyError(await access.gql(GET, { id: created.id }, stranger.identity));
    const missing = onlyError(await access.gql(GET, { id: '01936f5e-9a10-7c3e-8d21-5a6b7c8d9e10' }, stranger.identity));
    expect(foreign.extensions?.code).toBe('not_found');
    expect(foreign.message).toBe(missing.message);

    expect(errorCode(await access.gql(DELETE, { id: created.id }, stranger.identity))).toBe('not_found');
    expect(dataOf(await access.gql<{ deleteSshKey: boolean }>(DELETE, { id: created.id }, owner.identity)).deleteSshKey).toBe(true);
    expect(errorCode(await access.gql(DELETE, { id: created.id }, owner.identity))).toBe('not_found');
    expect(errorCode(await access.gql(GET, { id: created.id }, owner.identity))).toBe('not_found');
  });

  it('counts the keys on the user', async () => {
    const user = await registerUser(access);
    dataOf(await addKey(user, 'one', key('ed25519').line));
    const me = dataOf(await access.gql<{ me: { sshKeyCount: number } }>('{ me { sshKeyCount } }', {}, user.identity)).me;
    expect(me.sshKeyCount).toBe(1);
  });
});
