import type { AllocationState } from '../generated/resolvers-types.js';
import { finalAt, type AllocationStateName, type AllocationView } from './model.js';
import type { Page } from './pagination.js';

export const toStateName = (state: AllocationState): AllocationStateName => state.toLowerCase() as AllocationStateName;

/** The GraphQL Allocation: camelCase, money as the shared Money type, enums upper-case (costSoFar is billing's: resolvers.ts). */
export function toAllocationNode(view: AllocationView) {
  return {
    id: view.id,
    projectId: view.projectId,
    project: { __typename: 'Project', id: view.projectId },
    name: view.name,
    state: view.state.toUpperCase() as AllocationState,
    stateReason: view.stateReason,
    createdByUserId: view.userId,
    profile: {
      id: view.profile.id,
      name: view.profile.name,
      kind: view.profile.name === 'whole' ? 'WHOLE' : 'MIG',
      memoryBytes: view.profile.memoryBytes,
      computeSevenths: view.profile.computeSevenths,
    },
    gpuModel: view.gpuModel,
    regionId: view.regionId,
    regionCode: view.region.code,
    placement: view.placement,
    osImage: view.osImage,
    sshKeyIds: view.sshKeyIds,
    sshAccess: view.sshAccess,
    hourlyPrice: { amountMinor: view.hourlyAmountMinor, currency: view.currency },
    pricePerHour: { amountMinor: view.hourlyAmountMinor, currency: view.currency },
    requestedAt: view.requestedAt,
    activeAt: view.activeAt,
    activatedAt: view.activeAt,
    failureReason: view.state === 'failed' ? view.stateReason : null,
    releasedAt: finalAt(view),
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}

export function toConnection(page: Page<AllocationView>) {
  return {
    edges: page.items.map((item) => ({ node: toAllocationNode(item.node), cursor: item.cursor })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  };
}
