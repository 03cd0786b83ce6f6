import type { OperationResult } from '../registry.js';

type Json = Record<string, unknown>;

/** GraphQL int64 byte counts travel as strings; REST carries JSON integers (exact far beyond any GPU's memory). */
const withByteCount = (gpu: Json): Json => ({ ...gpu, memoryBytes: Number(gpu['memoryBytes']) });

/** GraphQL ComputeNode (AdminNodeFields, decoded enums) → the contract's AdminNode, still camelCase. */
export function restAdminNode(node: Json): Json {
  return {
    ...node,
    region: (node['region'] as Json)['code'],
    gpus: (node['gpus'] as Json[]).map(withByteCount),
  };
}

/** ComputeNodeSliceGpu → AdminSliceTopologyGpu. */
export const restSliceGpu = withByteCount;

/** GraphQL ComputeNode (V3ComputeNodeFields) → the contract's V3ComputeNode: each GPU with its slice instances. */
export function restV3Node(node: Json): Json {
  const { credential, gpus, sliceInstances, ...rest } = node as Json & { credential: Json; gpus: Json[]; sliceInstances: Json[] };
  const instancesOf = (uuid: unknown) => sliceInstances.filter((instance) => instance['gpuUuid'] === uuid).map(({ gpuUuid: _, ...instance }) => instance);
  return { ...rest, credentialStatus: credential['status'], gpus: gpus.map((gpu) => ({ ...withByteCount(gpu), instances: instancesOf(gpu['uuid']) })) };
}

/** A connection of nodes as `{data, next_cursor}`, each node shaped by `shape`. */
export const nodePageAt =
  (fieldName: string, shape: (node: Json) => Json) =>
  (data: Json): OperationResult => {
    const connection = data[fieldName] as { edges: { node: Json }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    return {
      status: 200,
      body: { data: connection.edges.map((edge) => shape(edge.node)), nextCursor: connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null },
    };
  };
