import type { OperationHandlers } from '../registry.js';
import { byId, documentsBeside, field, graphqlOperation, page, pageQuery } from '../graphql-operation.js';

const doc = documentsBeside(import.meta.url);

/** The v3 read views of OS images (/api/v3/platform/os-images). */
export const v3OsImageHandlers = {
  v3ListPlatformOsImages: graphqlOperation({ document: doc('v3-list-platform-os-images'), variables: pageQuery('family', 'status'), respond: page('osImages') }),
  v3GetPlatformOsImage: graphqlOperation({ document: doc('v3-get-platform-os-image'), variables: byId, respond: field('osImage') }),
} satisfies OperationHandlers;
