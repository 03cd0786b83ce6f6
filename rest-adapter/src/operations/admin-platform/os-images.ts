import type { OperationHandlers } from '../registry.js';
import { byId, documentsBeside, field, graphqlOperation, inputFrom, noContent, page, pageQuery } from '../graphql-operation.js';

const doc = documentsBeside(import.meta.url);

/** Operators' OS image management under /api/v1/admin/os-images. */
export const adminOsImageHandlers = {
  adminListOsImages: graphqlOperation({ document: doc('admin-list-os-images'), variables: pageQuery('family', 'status'), respond: page('adminOsImages') }),
  adminCreateOsImage: graphqlOperation({ document: doc('admin-create-os-image'), variables: inputFrom(), respond: field('adminCreateOsImage', 201) }),
  adminGetOsImage: graphqlOperation({ document: doc('admin-get-os-image'), variables: byId, respond: field('adminOsImage') }),
  adminUpdateOsImage: graphqlOperation({ document: doc('admin-update-os-image'), variables: inputFrom({ id: 'id' }), respond: field('adminUpdateOsImage') }),
  adminDeleteOsImage: graphqlOperation({ document: doc('admin-delete-os-image'), variables: inputFrom({ id: 'id' }), respond: noContent }),
} satisfies OperationHandlers;
