import { toPage, type Connection } from '../../graphql/connections.js';
import type { OperationHandlers } from '../registry.js';
import { byId, documentsBeside, graphqlOperation, pageQuery } from '../graphql-operation.js';
import { v3Me, v3Project } from './read-models.js';

const doc = documentsBeside(import.meta.url);

type Json = Record<string, unknown>;

/** The /api/v3/access read models: one GraphQL query each, reshaped into the denormalised REST views. */
export const v3AccessHandlers = {
  v3ListAccessProjects: graphqlOperation({
    document: doc('v3-list-projects'),
    variables: pageQuery('personal', 'role', 'q'),
    respond: (data) => {
      const { data: projects, nextCursor } = toPage(data['projects'] as Connection<Json>);
      return { status: 200, body: { data: projects.map(v3Project), nextCursor } };
    },
  }),
  v3GetAccessProject: graphqlOperation({
    document: doc('v3-get-project'),
    variables: byId,
    respond: (data) => ({ status: 200, body: v3Project(data['project'] as Json) }),
  }),
  v3GetAccessMe: graphqlOperation({ document: doc('v3-get-me'), respond: (data) => ({ status: 200, body: v3Me(data['me'] as Json) }) }),
} satisfies OperationHandlers;
