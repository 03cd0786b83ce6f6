import { NotImplemented } from '@gpuaas/errors';

/** The CheckoutSession entity: other subgraphs reference it by id and the gateway resolves it here. */
export const CheckoutSession = {
  __resolveReference: () => {
    throw NotImplemented('CheckoutSession reference');
  },
};
