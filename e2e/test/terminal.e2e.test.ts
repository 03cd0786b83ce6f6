import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../subgraphs/compute/src/nodes/tokens.js';
import { seedTerminalWorld, type TerminalWorld } from '../../subgraphs/compute/test/terminal/support/seed.js';
import { restAccessClient, restCall } from './support/rest-client.js';
import { startAccessStack, type AccessStack } from './support/stack.js';

const PASSWORD = 'correct-horse-battery-staple-42';

let stack: AccessStack;
let world: TerminalWorld;

beforeAll(async () => {
  stack = await startAccessStack({ oidcAccounts: [] });
  world = await seedTerminalWorld(stack.db, sha256Hex);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('a terminal token for a new user', () => {
  it('is issued over REST and GraphQL for an active allocation of their project, and refused to anyone else', async () => {
    const client = restAccessClient(stack.restUrl);
    const ada = await client.register(`ada.terminal.${Date.now()}@example.com`, PASSWORD, 'Ada Lovelace');
    const grace = await client.register(`grace.terminal.${Date.now()}@example.com`, PASSWORD, 'Grace Hopper');
    // Provisioning is another area's journey; the allocation is placed and active here as it would be after it.
    const allocationId = await world.newAllocation(ada.personalProjectId, ada.userId);
    const path = `/api/v1/allocations/${allocationId}/terminal-token`;

    const issued = await restCall(stack.restUrl, 'createAllocationTerminalToken', 'POST', path, { token: ada.tokens.accessToken });
    expect(issued.status).toBe(201);
    expect(issued.json).toMatchObject({ allocation_id: allocationId, protocol: 'gpuaas.terminal.v1', ws_url: expect.stringMatching(new RegExp(`/terminal/${allocationId}$`)) });

    const response = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ada.tokens.accessToken}` },
      body: JSON.stringify({ query: 'mutation ($id: ID!) { createAllocationTerminalToken(input: { id: $id }) { allocationId protocol token } }', variables: { id: allocationId } }),
    });
    const graphql = (await response.json()) as { data: { createAllocationTerminalToken: { allocationId: string; token: string } } };
    expect(graphql.data.createAllocationTerminalToken.allocationId).toBe(allocationId);
    expect(graphql.data.createAllocationTerminalToken.token).not.toBe((issued.json as { token: string }).token);

    const stranger = await restCall(stack.restUrl, 'createAllocationTerminalToken', 'POST', path, { token: grace.tokens.accessToken });
    expect(stranger.status).toBe(404);
    const anonymous = await restCall(stack.restUrl, 'createAllocationTerminalToken', 'POST', path);
    expect(anonymous.status).toBe(401);
  });
});
