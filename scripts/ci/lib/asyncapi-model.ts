import { resolveRef, schemaRefName } from './openapi-model.js';
import { isObject, type JsonObject } from './repo.js';

export interface EventMessage {
  /** Key of the message in its channel. */
  readonly id: string;
  /** Name of the component schema of the event's `payload` (inside the envelope), when it is a named schema. */
  readonly payloadSchemaName: string | undefined;
  /** The payload schema itself (a `$ref` or inline JSON Schema). */
  readonly payloadSchema: unknown;
}

export interface EventChannel {
  readonly id: string;
  /** The NATS subject, e.g. `provisioning.requested`. */
  readonly address: string;
  readonly stream: string | undefined;
  readonly messages: readonly EventMessage[];
  readonly description: string | undefined;
}

export interface EventOperation {
  readonly id: string;
  readonly action: 'send' | 'receive';
  /** Deployables named by `x-service` (producers for send, consumers for receive). */
  readonly services: readonly string[];
  readonly address: string | undefined;
  readonly description: string | undefined;
  /** Extension fields of the operation (e.g. `x-max-deliver`), for the docs. */
  readonly extensions: Readonly<Record<string, unknown>>;
}

export interface EventModel {
  readonly channels: readonly EventChannel[];
  readonly operations: readonly EventOperation[];
}

/** Reads the parts of a bundled AsyncAPI 3 document the codegen, the docs and the gates use. */
export function readEventModel(doc: JsonObject): EventModel {
  const rawChannels = isObject(doc['channels']) ? doc['channels'] : {};
  const channels: EventChannel[] = [];
  const addressById = new Map<string, string>();
  for (const [id, raw] of Object.entries(rawChannels)) {
    const channel = resolveRef(doc, raw);
    if (!isObject(channel)) continue;
    const address = typeof channel['address'] === 'string' ? channel['address'] : id;
    addressById.set(id, address);
    const messages = isObject(channel['messages']) ? channel['messages'] : {};
    channels.push({
      id,
      address,
      stream: typeof channel['x-stream'] === 'string' ? channel['x-stream'] : undefined,
      description: typeof channel['description'] === 'string' ? channel['description'] : undefined,
      messages: Object.entries(messages).map(([messageId, message]) => readMessage(doc, messageId, message)),
    });
  }
  const rawOperations = isObject(doc['operations']) ? doc['operations'] : {};
  const operations: EventOperation[] = [];
  for (const [id, raw] of Object.entries(rawOperations)) {
    const operation = resolveRef(doc, raw);
    if (!isObject(operation) || (operation['action'] !== 'send' && operation['action'] !== 'receive')) continue;
    const channelRef = isObject(operation['channel']) ? operation['channel']['$ref'] : undefined;
    const channelId = typeof channelRef === 'string' ? decodeURIComponent(channelRef.replace(/^#\/channels\//, '')).replace(/~1/g, '/').replace(/~0/g, '~') : undefined;
    const service = operation['x-service'];
    operations.push({
      id,
      action: operation['action'],
      services: typeof service === 'string' ? [service] : Array.isArray(service) ? service.filter((s): s is string => typeof s === 'string') : [],
      address: channelId === undefined ? undefined : addressById.get(channelId),
      description: typeof operation['description'] === 'string' ? operation['description'] : undefined,
      extensions: Object.fromEntries(Object.entries(operation).filter(([key]) => key.startsWith('x-') && key !== 'x-service')),
    });
  }
  return { channels, operations };
}

/**
 * A message's `payload` is either the event envelope (whose `payload` property is the event's own data) or that data
 * directly; either way the event's payload schema is what the generated types and docs name.
 */
function readMessage(doc: JsonObject, id: string, raw: unknown): EventMessage {
  const message = resolveRef(doc, raw);
  let payload: unknown = isObject(message) ? message['payload'] : undefined;
  // AsyncAPI 3 multi-format schema objects wrap the schema: { schemaFormat, schema }
  if (isObject(payload) && 'schemaFormat' in payload && 'schema' in payload) payload = payload['schema'];
  const resolved = resolveRef(doc, payload);
  if (isEnvelope(doc, resolved)) {
    const inner = envelopeProperties(doc, resolved)['payload'];
    return { id, payloadSchemaName: schemaRefName(inner), payloadSchema: inner };
  }
  return { id, payloadSchemaName: schemaRefName(payload), payloadSchema: payload };
}

function envelopeProperties(doc: JsonObject, schema: unknown): JsonObject {
  const resolved = resolveRef(doc, schema);
  if (!isObject(resolved)) return {};
  const own = isObject(resolved['properties']) ? resolved['properties'] : {};
  // An envelope may be written as allOf [EventEnvelope, {properties: {payload}}]: merge the parts' properties.
  const parts = Array.isArray(resolved['allOf']) ? resolved['allOf'] : [];
  return Object.assign({}, ...parts.map((part) => envelopeProperties(doc, part)), own) as JsonObject;
}

function isEnvelope(doc: JsonObject, schema: unknown): boolean {
  const properties = envelopeProperties(doc, schema);
  return 'payload' in properties && ('event_id' in properties || 'event_type' in properties);
}
