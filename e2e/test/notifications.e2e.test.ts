import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { withTransaction } from '@gpuaas/db';
import { createEnvelope, type Subject } from '@gpuaas/events';
import { writeOutbox } from '@gpuaas/outbox';
import { subscribe, wsClient, type Subscription } from '../../gateway/test/support/ws-client.js';
import { notificationPayloadsFor } from '../../subgraphs/platform/test/support/notification-events.js';
import { graphqlAccessClient, graphqlCall } from './support/graphql-client.js';
import { startLiveStack, type LiveStack } from './support/live-stack.js';

// A notification travels as a user's would: an event committed to the outbox → outbox relay → JetStream →
// notification-relay (platform.notifications) → NOTIFY → platform subgraph's notificationAdded → the gateway's
// graphql-ws bridge, to a console that authenticated in connection_init; the same rows answer the notifications query.

interface Person {
  readonly userId: string;
  readonly token: string;
}

interface PushedNotification {
  readonly notificationAdded: { readonly id: string; readonly severity: string; readonly title: string; readonly body: string; readonly readAt: string | null };
}

const PASSWORD = 'a-long-enough-passphrase-42';
const ADDED = 'subscription { notificationAdded { id severity title body readAt } }';
const LIST = `query($unreadOnly: Boolean, $first: Int, $after: String) {
  notifications(unreadOnly: $unreadOnly, first: $first, after: $after) { edges { cursor node { id severity title body readAt createdAt } } pageInfo { hasNextPage endCursor } }
}`;

let stack: LiveStack;
let alice: Person;
let mallory: Person;
const clients: Client[] = [];

async function person(name: string): Promise<Person> {
  const door = graphqlAccessClient(stack.replicas[0]!.graphqlUrl);
  const email = `${name}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}@example.test`;
  const registered = await door.register(email, PASSWORD, name);
  return { userId: registered.userId, token: registered.tokens.accessToken };
}

/** Commits an event for `who` the way a producing domain does (outbox row in its transaction). */
async function produce(subject: Subject & keyof ReturnType<typeof notificationPayloadsFor>, who: Person): Promise<string> {
  const envelope = createEnvelope(subject, notificationPayloadsFor(who.userId)[subject]);
  await withTransaction(stack.db, (client) => writeOutbox(client, envelope));
  return envelope.event_id;
}

/** A console subscribed through the gateway, with the bearer token in connection_init. */
function consoleOf(who: Person | undefined): Subscription<PushedNotification> {
  const client = wsClient(stack.replicas[0]!.gatewayUrl, who ? { authorization: `Bearer ${who.token}` } : {});
  clients.push(client);
  return subscribe<PushedNotification>(client, ADDED);
}

const WARM_UP_TITLE = 'Your GPU is ready';

/**
 * The subscription is live once a notification for its user reaches it: keep producing one (provisioning.active, which
 * the test's own events never use) until one does. Pings produced before it was live are listed but never pushed.
 */
async function untilLive(sub: Subscription<PushedNotification>, who: Person): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (sub.results.length === 0) {
    if (sub.failure) throw new Error(`subscription failed: ${JSON.stringify(sub.failure)}`);
    if (Date.now() > deadline) throw new Error('the subscription never went live');
    await produce('provisioning.active', who);
    const waitUntil = Date.now() + 500;
    while (sub.results.length === 0 && Date.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What a subscription received beyond the warm-up pings. */
const beyondWarmUp = (sub: Subscription<PushedNotification>) =>
  sub.results.map((result) => result.data!.notificationAdded).filter((notification) => notification.title !== WARM_UP_TITLE);

/** Waits until `count` notifications beyond the warm-up pings arrived. */
async function received(sub: Subscription<PushedNotification>, count: number) {
  const deadline = Date.now() + 10_000;
  while (beyondWarmUp(sub).length < count) {
    if (sub.failure) throw new Error(`subscription failed: ${JSON.stringify(sub.failure)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} notifications`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return beyondWarmUp(sub);
}

async function list(who: Person, variables: Record<string, unknown> = {}) {
  const data = await graphqlCall<{ notifications: { edges: { node: { id: string; title: string; severity: string; readAt: string | null } }[] } }>(
    stack.replicas[0]!.graphqlUrl,
    LIST,
    { first: 50, ...variables },
    who.token,
  );
  return data.notifications.edges.map((edge) => edge.node);
}

beforeAll(async () => {
  stack = await startLiveStack({ replicas: 1, workerRoles: 'outbox-relay,notification-relay' });
  alice = await person('alice');
  mallory = await person('mallory');
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await stack?.close();
});

describe('notifications through the gateway', () => {
  it("pushes each event's notification to its recipient's console only, once, and lists it", async () => {
    const alices = consoleOf(alice);
    const mallorys = consoleOf(mallory);
    await untilLive(alices, alice);
    await untilLive(mallorys, mallory);

    await produce('provisioning.lost', alice);
    await produce('billing.balance_depleted', alice);
    await produce('payments.balance_credited', alice);

    // Each subject has its own consumer, so the three may be recorded in any order.
    const pushed = await received(alices, 3);
    expect(pushed.map(({ severity, title, readAt }) => ({ severity, title, readAt })).sort((a, b) => a.title.localeCompare(b.title))).toEqual([
      { severity: 'CRITICAL', title: 'Node offline: your allocation was lost', readAt: null },
      { severity: 'INFO', title: 'Payment received', readAt: null },
      { severity: 'CRITICAL', title: 'Your balance is used up', readAt: null },
    ]);

    // Mallory's own next notification is committed after all of Alice's, so anything of Alice's pushed to her would be
    // there by the time it arrives.
    await produce('billing.low_balance_warning', mallory);
    expect((await received(mallorys, 1)).map(({ severity, title }) => ({ severity, title }))).toEqual([{ severity: 'WARNING', title: 'Your balance is running low' }]);
    expect(beyondWarmUp(alices)).toHaveLength(3);

    const alicesList = await list(alice);
    expect(alicesList.slice(0, 3).map((node) => node.id).sort()).toEqual(pushed.map((notification) => notification.id).sort());
    const alicesIds = new Set(alicesList.map((node) => node.id));
    expect(mallorys.results.some((result) => alicesIds.has(result.data!.notificationAdded.id))).toBe(false);
    expect((await list(mallory)).some((node) => alicesIds.has(node.id))).toBe(false);
  });

  it('marks a notification read for its recipient only', async () => {
    const [latest] = await list(alice, { unreadOnly: true });
    await expect(
      graphqlCall(stack.replicas[0]!.graphqlUrl, 'mutation($input: MarkNotificationReadInput!) { markNotificationRead(input: $input) { id } }', { input: { id: latest!.id } }, mallory.token),
    ).rejects.toMatchObject({ code: 'not_found' });
    const read = await graphqlCall<{ markNotificationRead: { id: string; readAt: string | null } }>(
      stack.replicas[0]!.graphqlUrl,
      'mutation($input: MarkNotificationReadInput!) { markNotificationRead(input: $input) { id readAt } }',
      { input: { id: latest!.id } },
      alice.token,
    );
    expect(read.markNotificationRead.readAt).not.toBeNull();
    expect((await list(alice, { unreadOnly: true })).map((node) => node.id)).not.toContain(latest!.id);
  });

  it('refuses a console without a signed-in user', async () => {
    const anonymous = consoleOf(undefined);
    await anonymous.ended();
    expect(anonymous.results).toHaveLength(1);
    expect(anonymous.results[0]!.data ?? null).toBeNull();
    expect(anonymous.results[0]!.errors?.[0]?.extensions?.['code']).toBe('unauthenticated');
  });
});
