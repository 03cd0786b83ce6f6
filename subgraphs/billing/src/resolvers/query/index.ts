import { NotImplemented } from '@gpuaas/errors';

/** Root query fields; each stub turns into a thin resolver over a service when its domain issue lands. */
export const Query = {
  wallet: () => {
    throw NotImplemented('Query.wallet');
  },
  ledgerEntries: () => {
    throw NotImplemented('Query.ledgerEntries');
  },
  refunds: () => {
    throw NotImplemented('Query.refunds');
  },
  checkoutSession: () => {
    throw NotImplemented('Query.checkoutSession');
  },
};
