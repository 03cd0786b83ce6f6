import type { OperationHandlers } from '../registry.js';
import { byId, documentsBeside, field, graphqlOperation, inputFrom, noContent, page, pageQuery } from '../graphql-operation.js';

const doc = documentsBeside(import.meta.url);

/** The caller's own profile, password and SSH keys. */
export const meHandlers = {
  getMe: graphqlOperation({ document: doc('get-me'), respond: field('me') }),
  updateMe: graphqlOperation({ document: doc('update-me'), variables: inputFrom(), respond: field('updateMe') }),
  changeMyPassword: graphqlOperation({ document: doc('change-password'), variables: inputFrom(), respond: noContent }),
  listSshKeys: graphqlOperation({ document: doc('list-ssh-keys'), variables: pageQuery(), respond: page('sshKeys') }),
  createSshKey: graphqlOperation({ document: doc('create-ssh-key'), variables: inputFrom(), respond: field('createSshKey', 201) }),
  getSshKey: graphqlOperation({ document: doc('get-ssh-key'), variables: byId, respond: field('sshKey') }),
  deleteSshKey: graphqlOperation({ document: doc('delete-ssh-key'), variables: inputFrom({ id: 'id' }), respond: noContent }),
} satisfies OperationHandlers;
