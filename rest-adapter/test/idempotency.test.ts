import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadContract } from '../src/contract/load-contract.js';
import { takesIdempotencyKey } from '../src/http/idempotency.js';
import { assertResponseMatchesContract } from '../src/testing/contract-validator.js';
import { accessRoot, ids, sharedProject } from './support/access-fixtures.js';
import { startTestAdapter, type Answer, type TestAdapter } from './support/adapter.js';
import { catalogError, startStubGateway, type RootValue, type StubGateway } from './support/stub-gateway.js';

const contract = loadContract();
const ADA = 'Bearer ada.access.token';
const GRACE = 'Bearer grace.access.token';

let gateway: StubGateway;
let server: TestAdapter;
const root: RootValue = accessRoot();
const original = { ...root };
let keyCounter = 0;

beforeAll(async () => {
  gateway = await startStubGateway(root);
  server = await startTestAdapter({ config: { gatewayUrl: gateway.url } });
});
afterEach(() => {
  Object.assign(root, original);
  gateway.received.length = 0;
});
afterAll(async () => {
  await server?.close();
  await gateway?.close();
});

/** A key no other test uses. */
function freshKey(): string {
  keyCounter += 1;
  return `idem-test-${keyCounter}-${Date.now()}`;
}

function createProject(key: string | undefined, body: object, authorization = ADA): Promise<Answer> {
  return server.send('POST', '/api/v1/projects', {
    headers: { authorization, 'content-type': 'application/json', ...(key ? { 'x-idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
}

const executions = (operationName: string) => gateway.requestsFor(operationName).length;

describe('X-Idempotency-Key on a mutation', () => {
  it('replays the first answer for the same key and body, marked Idempotent-Replayed, without running it again', async () => {
    const key = freshKey();
    const first = await createProject(key, { name: 'Vision Research', slug: 'vision-research' });
    const again = await createProject(key, { slug: 'vision-research', name: 'Vision Research' });

    expect(first.status, first.text).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    expect(executions('CreateProject')).toBe(1);
    assertResponseMatchesContract('createProject', 201, again.json);
  });

  it('answers 409 idempotency_key_reused for the same key with another body', async () => {
    const key = freshKey();
    await createProject(key, { name: 'Vision Research' });
    const reused = await createProject(key, { name: 'Something Else' });

    expect(reused.status).toBe(409);
    expect(reused.json).toMatchObject({ code: 'idempotency_key_reused' });
    expect(executions('CreateProject')).toBe(1);
    assertResponseMatchesContract('createProject', 409, reused.json);
  });

  it('runs 20 concurrent requests with one key exactly once and gives every one the same answer', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    root['createProject'] = async ({ input }: { input: Record<string, unknown> }) => {
      await gate;
      return { ...sharedProject, name: input['name'] };
    };
    const key = freshKey();
    const pending = Array.from({ length: 20 }, () => createProject(key, { name: 'Concurrent' }));
    // Hold the first execution until all 20 requests are connected, so the others really arrive while it runs.
    await until(async () => executions('CreateProject') === 1 && (await openConnections()) >= 20);
    release();
    const answers = await Promise.all(pending);

    expect(executions('CreateProject')).toBe(1);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
  });

  it('keeps callers apart: another token with the same key runs again', async () => {
    const key = freshKey();
    await createProject(key, { name: 'Shared Key' }, ADA);
    const other = await createProject(key, { name: 'Shared Key' }, GRACE);

    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(executions('CreateProject')).toBe(2);
  });

  it('keeps operations apart: the same key on another operation runs that operation', async () => {
    const key = freshKey();
    await createProject(key, { name: 'Vision Research' });
    const member = await server.send('POST', `/api/v1/projects/${ids.sharedProject}/members`, {
      headers: { authorization: ADA, 'content-type': 'application/json', 'x-idempotency-key': key },
      body: JSON.stringify({ email: 'grace@example.com', role: 'member' }),
    });

    expect(member.status, member.text).toBe(201);
    expect(member.headers.get('idempotent-replayed')).toBeNull();
    expect(executions('AddProjectMember')).toBe(1);
  });

  it('runs every request without a key', async () => {
    await createProject(undefined, { name: 'No Key' });
    await createProject(undefined, { name: 'No Key' });

    expect(executions('CreateProject')).toBe(2);
  });

  it('replays an answer without a body as one without a body', async () => {
    const key = freshKey();
    const send = () => server.send('DELETE', `/api/v1/ssh-keys/${ids.sshKey}`, { headers: { authorization: ADA, 'x-idempotency-key': key } });
    const first = await send();
    const again = await send();

    expect([first.status, again.status]).toEqual([204, 204]);
    expect(again.text).toBe('');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(executions('DeleteSshKey')).toBe(1);
  });

  it('replays a final refusal (a 4xx catalog error) instead of running again', async () => {
    root['createProject'] = () => {
      throw catalogError('already_exists', 'The slug is taken');
    };
    const key = freshKey();
    const first = await createProject(key, { name: 'Taken', slug: 'taken-slug' });
    const again = await createProject(key, { name: 'Taken', slug: 'taken-slug' });

    expect([first.status, again.status]).toEqual([409, 409]);
    expect(again.json).toMatchObject({ code: 'already_exists', message: 'The slug is taken' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(executions('CreateProject')).toBe(1);
    assertResponseMatchesContract('createProject', 409, again.json);
  });

  it('lets a retry run again after a failure that may be transient', async () => {
    root['createProject'] = () => {
      throw catalogError('service_unavailable', 'The database is unreachable');
    };
    const key = freshKey();
    const failed = await createProject(key, { name: 'Retry Me' });
    Object.assign(root, original);
    const retried = await createProject(key, { name: 'Retry Me' });

    expect(failed.status).toBe(503);
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(executions('CreateProject')).toBe(2);
  });

  it('dedupes anonymous operations on the key and operation alone (a retried refresh replays, not reuses)', async () => {
    const key = freshKey();
    const refresh = (headers: Record<string, string> = {}) =>
      server.send('POST', '/api/v1/auth/token/refresh', {
        headers: { 'content-type': 'application/json', 'x-idempotency-key': key, ...headers },
        body: JSON.stringify({ refresh_token: 'rt_0123456789abcdef.retried-over-a-flaky-network' }),
      });
    const first = await refresh();
    // A bearer the operation does not take changes nothing, not even the idempotency scope.
    const again = await refresh({ authorization: 'Bearer some.stale.token' });

    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(executions('RefreshTokens')).toBe(1);
    assertResponseMatchesContract('refreshToken', 200, again.json);
  });

  it('answers 503 service_unavailable when Redis cannot be reached, without running the mutation', async () => {
    const cut = await startTestAdapter({ config: { gatewayUrl: gateway.url, redisUrl: 'redis://127.0.0.1:9' } });
    try {
      const answer = await cut.send('POST', '/api/v1/projects', {
        headers: { authorization: ADA, 'content-type': 'application/json', 'x-idempotency-key': freshKey() },
        body: JSON.stringify({ name: 'No Redis' }),
      });
      const ready = await cut.send('GET', '/readyz');

      expect(answer.status).toBe(503);
      expect(answer.json).toMatchObject({ code: 'service_unavailable' });
      expect(executions('CreateProject')).toBe(0);
      expect(ready.status).toBe(503);
      expect(ready.json).toMatchObject({ checks: { redis: { status: 'failing' } } });
    } finally {
      await cut.close();
    }
  });
});

describe('which operations take X-Idempotency-Key', () => {
  it('is every POST, PUT, PATCH and DELETE except the Stripe webhook', () => {
    const byId = (id: string) => contract.operations.find((o) => o.operationId === id)!;
    const mutations = contract.operations.filter((o) => ['post', 'put', 'patch', 'delete'].includes(o.method));

    expect(takesIdempotencyKey(byId('createProject'))).toBe(true);
    expect(takesIdempotencyKey(byId('deleteSshKey'))).toBe(true);
    expect(takesIdempotencyKey(byId('adminUpdateUser'))).toBe(true);
    expect(takesIdempotencyKey(byId('getMe'))).toBe(false);
    expect(takesIdempotencyKey(byId('receiveStripeWebhook'))).toBe(false);
    expect(mutations.filter((o) => !takesIdempotencyKey(o)).map((o) => o.operationId)).toEqual(['receiveStripeWebhook']);
  });
});

async function openConnections(): Promise<number> {
  return new Promise((resolve, reject) => server.adapter.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

/** Waits for a condition, checking every few milliseconds, for at most 10 s. */
async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
