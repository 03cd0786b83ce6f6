import { readEventModel } from './asyncapi-model.js';
import { isObject, type JsonObject } from './repo.js';

/**
 * The event-contract conventions the generated types and doc/nats-subjects.md rely on: each channel names its
 * JetStream stream (`x-stream`), each operation is a send or receive by a named deployable (`x-service`).
 */
export function checkEventHouseRules(doc: JsonObject): string[] {
  const problems: string[] = [];
  for (const channel of readEventModel(doc).channels) {
    if (channel.stream === undefined) problems.push(`channel ${channel.id} (${channel.address}): needs x-stream (the JetStream stream that stores it)`);
  }
  const operations = isObject(doc['operations']) ? doc['operations'] : {};
  for (const [id, operation] of Object.entries(operations)) {
    if (!isObject(operation)) continue;
    if (operation['action'] !== 'send' && operation['action'] !== 'receive') problems.push(`operation ${id}: action must be send or receive`);
    const service = operation['x-service'];
    const named = typeof service === 'string' ? service.trim() !== '' : Array.isArray(service) && service.length > 0;
    if (!named) problems.push(`operation ${id}: needs x-service (the deployable that ${operation['action'] === 'receive' ? 'consumes' : 'produces'} it)`);
  }
  return problems;
}
