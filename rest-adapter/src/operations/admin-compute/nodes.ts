import { allocationFilters } from '../compute/allocations.js';
import { byId, documentsBeside, graphqlOperation, inputFrom } from '../graphql-operation.js';
import type { OperationHandlers } from '../registry.js';
import { nodePageAt, restAdminNode, restSliceGpu } from './node-rest-shape.js';

const doc = documentsBeside(import.meta.url);

type Json = Record<string, unknown>;

/** Operators' node management under /api/v1/admin/nodes. */
export const adminNodeHandlers = {
  adminListNodes: graphqlOperation({ document: doc('admin-list-nodes'), variables: allocationFilters('region'), respond: nodePageAt('adminNodes', restAdminNode) }),
  adminGetNode: graphqlOperation({
    document: doc('admin-get-node'),
    variables: byId,
    respond: (data) => ({ status: 200, body: restAdminNode(data['adminNode'] as Json) }),
  }),
  adminCreateNode: graphqlOperation({
    document: doc('admin-create-node'),
    variables: inputFrom(),
    respond: (data) => {
      const created = data['adminCreateNode'] as Json;
      return { status: 201, body: { ...created, node: restAdminNode(created['node'] as Json) } };
    },
  }),
  adminUpdateNode: graphqlOperation({
    document: doc('admin-update-node'),
    variables: inputFrom({ id: 'id' }),
    respond: (data) => ({ status: 200, body: restAdminNode(data['adminUpdateNode'] as Json) }),
  }),
  adminRevokeNodeCredential: graphqlOperation({
    document: doc('admin-revoke-node-credential'),
    variables: inputFrom({ id: 'id' }),
    respond: (data) => ({ status: 200, body: restAdminNode(data['adminRevokeNodeCredential'] as Json) }),
  }),
  adminIssueNodeBootstrapToken: graphqlOperation({
    document: doc('admin-issue-node-bootstrap-token'),
    variables: inputFrom({ id: 'id' }),
    respond: (data) => ({ status: 201, body: data['adminIssueNodeBootstrapToken'] }),
  }),
  adminDiscoverNodeSliceTopology: graphqlOperation({
    document: doc('admin-discover-node-slice-topology'),
    variables: inputFrom({ id: 'id' }),
    respond: (data) => ({ status: 202, body: data['adminDiscoverNodeSliceTopology'] }),
  }),
  adminGetNodeSliceTopology: graphqlOperation({
    document: doc('admin-get-node-slice-topology'),
    variables: byId,
    respond: (data) => {
      const topology = data['adminNodeSliceTopology'] as Json & { gpus: Json[] };
      return { status: 200, body: { ...topology, gpus: topology.gpus.map(restSliceGpu) } };
    },
  }),
} satisfies OperationHandlers;
