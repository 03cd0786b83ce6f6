import type { OperationHandlers } from '../registry.js';
import { byId, documentsBeside, field, graphqlOperation, inputFrom, noContent, page, pageQuery, type VariablesOf } from '../graphql-operation.js';

const doc = documentsBeside(import.meta.url);
const member = { project_id: 'id', user_id: 'userId' };

/** REST clears a slug with `slug: null`; GraphQL inputs cannot always tell null from absent, so it has `clearSlug`. */
const projectUpdate: VariablesOf = (ctx) => {
  const { input } = inputFrom({ id: 'id' })(ctx) as { input: Record<string, unknown> };
  if (input['slug'] !== null) return { input };
  const { slug: _cleared, ...rest } = input;
  return { input: { ...rest, clear_slug: true } };
};

/** Projects and their members. */
export const projectHandlers = {
  listProjects: graphqlOperation({ document: doc('list-projects'), variables: pageQuery('personal', 'role'), respond: page('projects') }),
  createProject: graphqlOperation({ document: doc('create-project'), variables: inputFrom(), respond: field('createProject', 201) }),
  getProject: graphqlOperation({ document: doc('get-project'), variables: byId, respond: field('project') }),
  updateProject: graphqlOperation({ document: doc('update-project'), variables: projectUpdate, respond: field('updateProject') }),
  deleteProject: graphqlOperation({ document: doc('delete-project'), variables: inputFrom({ id: 'id' }), respond: noContent }),
  listProjectMembers: graphqlOperation({
    document: doc('list-project-members'),
    variables: (ctx) => ({ ...byId(ctx), ...pageQuery('role')(ctx) }),
    respond: page('project', 'members'),
  }),
  addProjectMember: graphqlOperation({ document: doc('add-project-member'), variables: inputFrom({ project_id: 'id' }), respond: field('addProjectMember', 201) }),
  updateProjectMember: graphqlOperation({ document: doc('update-project-member'), variables: inputFrom(member), respond: field('updateProjectMember') }),
  removeProjectMember: graphqlOperation({ document: doc('remove-project-member'), variables: inputFrom(member), respond: noContent }),
} satisfies OperationHandlers;
