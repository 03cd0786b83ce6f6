import { createRequire } from 'node:module';
import { CriticalityLevel, diff } from '@graphql-inspector/core';

// graphql-inspector checks `instanceof` against the graphql instance Node loads for it (the CommonJS build); a
// bundler-resolved ESM import (as under vitest) would be a second realm, so the schemas are built with that one.
const { buildSchema } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** Breaking changes between two API schemas (graphql-inspector), as `Type.field: message` lines. */
export async function graphqlBreakingChanges(releasedSdl: string, currentSdl: string): Promise<string[]> {
  const changes = await diff(buildSchema(releasedSdl), buildSchema(currentSdl));
  return changes
    .filter((change) => change.criticality.level === CriticalityLevel.Breaking)
    .map((change) => `${change.path ? `${change.path}: ` : ''}${change.message}`);
}
