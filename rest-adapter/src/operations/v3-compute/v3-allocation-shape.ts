import { restAllocation } from '../compute/allocation-rest-shape.js';

type Json = Record<string, unknown>;

/** GraphQL Allocation with its project, region, placement and telemetry → the contract's V3ComputeAllocation. */
export function restV3Allocation(node: Json): Json {
  const base = restAllocation({ ...node, regionCode: (node['region'] as Json)['code'] });
  const placement = node['placement'] as Json | null;
  const gpuModel = node['gpuModel'] as Json;
  const region = node['region'] as Json;
  const series = ((node['telemetry'] as { series?: { latest: Json | null }[] } | null)?.series ?? []).map((entry) => entry.latest).filter(Boolean) as Json[];
  const latest = series.sort((a, b) => String(b['sampledAt']).localeCompare(String(a['sampledAt'])))[0];
  return {
    id: base['id'],
    project: node['project'],
    name: base['name'],
    state: base['state'],
    stateReason: base['stateReason'],
    createdByUserId: base['createdByUserId'],
    profile: base['profile'],
    region: { id: region['id'], code: region['code'], name: region['name'], location: region['location'] },
    node: placement ? { id: placement['nodeId'], hostname: placement['hostname'], state: placement['nodeState'] } : null,
    gpu: placement
      ? {
          uuid: placement['gpuUuid'],
          index: placement['gpuIndex'],
          modelCode: gpuModel['code'],
          modelName: gpuModel['name'],
          memoryBytes: Number(placement['gpuMemoryBytes']),
          // The contract knows enabled/disabled; a card that cannot do MIG is not split either.
          migMode: placement['migMode'] === 'enabled' ? 'enabled' : 'disabled',
        }
      : null,
    slot: placement
      ? { id: placement['slotId'], migUuid: placement['migUuid'] ?? null, placement: { start: placement['placementStart'], size: placement['placementSize'] } }
      : null,
    osImage: base['osImage'],
    sshAccess: base['sshAccess'],
    hourlyPrice: base['hourlyPrice'],
    costSoFar: base['costSoFar'],
    lastTelemetry: latest
      ? { ...latest, memoryUsedBytes: Number(latest['memoryUsedBytes']), memoryTotalBytes: Number(latest['memoryTotalBytes']) }
      : null,
    requestedAt: base['requestedAt'],
    activeAt: base['activeAt'],
    releasedAt: base['releasedAt'],
    createdAt: base['createdAt'],
    updatedAt: base['updatedAt'],
  };
}
