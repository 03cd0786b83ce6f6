import type { OperationResult } from '../registry.js';

type Json = Record<string, unknown>;

interface Money {
  amountMinor: string;
  currency: string;
}

/** int64 amounts travel as strings in GraphQL; REST carries JSON integers (exact up to 2^53, far above any price). */
const money = (value: Money) => ({ amountMinor: Number(value.amountMinor), currency: value.currency });

/** GraphQL Allocation (camelCase, decoded enums) → the contract's Allocation, still camelCase (snake-cased after). */
export function restAllocation(node: Json): Json {
  const profile = node['profile'] as Json;
  const placement = node['placement'] as Json | null;
  return {
    id: node['id'],
    projectId: node['projectId'],
    name: node['name'],
    state: node['state'],
    stateReason: node['stateReason'],
    createdByUserId: node['createdByUserId'],
    profile: { ...profile, memoryBytes: Number(profile['memoryBytes']) },
    gpuModel: node['gpuModel'],
    region: node['regionCode'],
    node: placement ? { id: placement['nodeId'], hostname: placement['hostname'], gpuUuid: placement['gpuUuid'], slotId: placement['slotId'] } : null,
    osImage: node['osImage'],
    sshKeyIds: node['sshKeyIds'],
    // Volumes and app templates are the workloads domain's; an allocation cannot carry them yet.
    volumeIds: [],
    appTemplateId: null,
    sshAccess: node['sshAccess'],
    hourlyPrice: money(node['hourlyPrice'] as Money),
    costSoFar: money(node['costSoFar'] as Money),
    requestedAt: node['requestedAt'],
    activeAt: node['activeAt'],
    releasedAt: node['releasedAt'],
    createdAt: node['createdAt'],
    updatedAt: node['updatedAt'],
  };
}

/** The root field's allocation as the REST body. */
export const allocationAt =
  (field: string, status = 200) =>
  (data: Json): OperationResult => ({ status, body: restAllocation(data[field] as Json) });

/** A connection of allocations as `{data, next_cursor}`. */
export const allocationPageAt =
  (field: string) =>
  (data: Json): OperationResult => {
    const connection = data[field] as { edges: { node: Json }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    return {
      status: 200,
      body: {
        data: connection.edges.map((edge) => restAllocation(edge.node)),
        nextCursor: connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null,
      },
    };
  };
