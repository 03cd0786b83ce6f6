import { allocationFilters } from '../compute/allocations.js';
import { byId, documentsBeside, graphqlOperation } from '../graphql-operation.js';
import type { OperationHandlers } from '../registry.js';
import { restV3Allocation } from './v3-allocation-shape.js';

const doc = documentsBeside(import.meta.url);

type Json = Record<string, unknown>;

/** The v3 read views of allocations (/api/v3/compute/allocations): an admin sees every tenant's. */
export const v3AllocationHandlers = {
  v3ListComputeAllocations: graphqlOperation({
    document: doc('v3-list-compute-allocations'),
    variables: allocationFilters('project_id', 'region'),
    respond: (data) => {
      const connection = data['readableAllocations'] as { edges: { node: Json }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
      return {
        status: 200,
        body: {
          data: connection.edges.map((edge) => restV3Allocation(edge.node)),
          nextCursor: connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null,
        },
      };
    },
  }),
  v3GetComputeAllocation: graphqlOperation({
    document: doc('v3-get-compute-allocation'),
    variables: byId,
    respond: (data) => ({ status: 200, body: restV3Allocation(data['readableAllocation'] as Json) }),
  }),
} satisfies OperationHandlers;
