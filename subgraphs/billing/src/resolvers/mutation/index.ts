import { NotImplemented } from '@gpuaas/errors';

/** Root mutations; each takes one `input` argument. */
export const Mutation = {
  createCheckoutSession: () => {
    throw NotImplemented('Mutation.createCheckoutSession');
  },
  requestRefund: () => {
    throw NotImplemented('Mutation.requestRefund');
  },
  adminGrantCredit: () => {
    throw NotImplemented('Mutation.adminGrantCredit');
  },
};
