import { NotImplemented } from '@gpuaas/errors';

/** Root mutations; each takes one `input` argument. */
export const Mutation = {
  register: () => {
    throw NotImplemented('Mutation.register');
  },
  login: () => {
    throw NotImplemented('Mutation.login');
  },
  refreshTokens: () => {
    throw NotImplemented('Mutation.refreshTokens');
  },
  logout: () => {
    throw NotImplemented('Mutation.logout');
  },
  createProject: () => {
    throw NotImplemented('Mutation.createProject');
  },
  addProjectMember: () => {
    throw NotImplemented('Mutation.addProjectMember');
  },
  addSshKey: () => {
    throw NotImplemented('Mutation.addSshKey');
  },
  removeSshKey: () => {
    throw NotImplemented('Mutation.removeSshKey');
  },
  setUserStatus: () => {
    throw NotImplemented('Mutation.setUserStatus');
  },
};
