import { pageArguments } from '../../graphql/connections.js';
import { byId, documentsBeside, graphqlOperation, inputFrom, pick, type VariablesOf } from '../graphql-operation.js';
import type { OperationHandlers } from '../registry.js';
import { allocationAt, allocationPageAt, restAllocation } from './allocation-rest-shape.js';

const doc = documentsBeside(import.meta.url);

/** REST `state` (repeatable) → `states`, plus `limit`/`cursor` and the other filters as they are. */
export const allocationFilters =
  (...filters: readonly string[]): VariablesOf =>
  (ctx) => {
    const state = ctx.query['state'];
    return {
      ...pageArguments(ctx.query),
      ...pick(ctx.query, filters),
      ...(state === undefined ? {} : { states: Array.isArray(state) ? state : [state] }),
    };
  };

/** Allocations under /api/v1/allocations (create, list, get, rename, release). */
export const allocationHandlers = {
  createAllocation: graphqlOperation({
    document: doc('create-allocation'),
    variables: inputFrom(),
    respond: (data) => {
      const body = restAllocation(data['createAllocation'] as Record<string, unknown>);
      return { status: 202, body, headers: { location: `/api/v1/allocations/${String(body['id'])}` } };
    },
  }),
  listAllocations: graphqlOperation({ document: doc('list-allocations'), variables: allocationFilters('project_id', 'region'), respond: allocationPageAt('allocations') }),
  getAllocation: graphqlOperation({ document: doc('get-allocation'), variables: byId, respond: allocationAt('allocation') }),
  updateAllocation: graphqlOperation({ document: doc('update-allocation'), variables: inputFrom({ id: 'id' }), respond: allocationAt('updateAllocation') }),
  releaseAllocation: graphqlOperation({ document: doc('release-allocation'), variables: inputFrom({ id: 'id' }), respond: allocationAt('releaseAllocation', 202) }),
} satisfies OperationHandlers;
