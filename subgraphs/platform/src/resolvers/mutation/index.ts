import { osImageMutations } from '../os-image-roots.js';
import { notificationMutations } from '../../notifications/resolvers.js';

/** Root mutations; each takes one `input` argument. */
export const Mutation = {
  ...notificationMutations,
  ...osImageMutations,
};
