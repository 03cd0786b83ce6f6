import { allocationAt, allocationPageAt } from '../compute/allocation-rest-shape.js';
import { allocationFilters } from '../compute/allocations.js';
import { byId, documentsBeside, graphqlOperation, inputFrom } from '../graphql-operation.js';
import type { OperationHandlers } from '../registry.js';

const doc = documentsBeside(import.meta.url);

/** Operators' view of every allocation and force release under /api/v1/admin/allocations. */
export const adminAllocationHandlers = {
  adminListAllocations: graphqlOperation({
    document: doc('admin-list-allocations'),
    variables: allocationFilters('node_id', 'user_id', 'project_id', 'region'),
    respond: allocationPageAt('adminAllocations'),
  }),
  adminGetAllocation: graphqlOperation({ document: doc('admin-get-allocation'), variables: byId, respond: allocationAt('adminAllocation') }),
  adminForceReleaseAllocation: graphqlOperation({
    document: doc('admin-force-release-allocation'),
    variables: inputFrom({ id: 'id' }),
    respond: allocationAt('adminForceReleaseAllocation', 202),
  }),
} satisfies OperationHandlers;
