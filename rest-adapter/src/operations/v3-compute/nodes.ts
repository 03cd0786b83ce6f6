import { allocationFilters } from '../compute/allocations.js';
import { nodePageAt, restV3Node } from '../admin-compute/node-rest-shape.js';
import { byId, documentsBeside, graphqlOperation } from '../graphql-operation.js';
import type { OperationHandlers } from '../registry.js';

const doc = documentsBeside(import.meta.url);

/** The v3 read views of nodes (/api/v3/compute/nodes): each node with its slice topology and live allocations. */
export const v3NodeHandlers = {
  v3ListComputeNodes: graphqlOperation({
    document: doc('v3-list-compute-nodes'),
    variables: allocationFilters('region'),
    respond: nodePageAt('adminNodes', restV3Node),
  }),
  v3GetComputeNode: graphqlOperation({
    document: doc('v3-get-compute-node'),
    variables: byId,
    respond: (data) => ({ status: 200, body: restV3Node(data['adminNode'] as Record<string, unknown>) }),
  }),
} satisfies OperationHandlers;
