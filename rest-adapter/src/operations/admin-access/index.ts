import { pageArguments } from '../../graphql/connections.js';
import type { OperationHandlers } from '../registry.js';
import { byId, documentsBeside, field, graphqlOperation, inputFrom, page, pick } from '../graphql-operation.js';

const doc = documentsBeside(import.meta.url);

/** Operators' user management under /api/v1/admin/users (admin role and auditing are the access subgraph's). */
export const adminAccessHandlers = {
  adminListUsers: graphqlOperation({
    document: doc('admin-list-users'),
    variables: (ctx) => ({ ...pageArguments(ctx.query), filter: pick(ctx.query, ['status', 'role', 'q', 'created_after', 'created_before']) }),
    respond: page('adminUsers'),
  }),
  adminGetUser: graphqlOperation({ document: doc('admin-get-user'), variables: byId, respond: field('adminUser') }),
  adminUpdateUser: graphqlOperation({ document: doc('admin-update-user'), variables: inputFrom({ id: 'id' }), respond: field('adminUpdateUser') }),
  adminRevokeUserSessions: graphqlOperation({
    document: doc('admin-revoke-user-sessions'),
    variables: inputFrom({ id: 'id' }),
    respond: field('adminRevokeUserSessions'),
  }),
} satisfies OperationHandlers;
