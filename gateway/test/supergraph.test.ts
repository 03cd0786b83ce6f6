import { describe, expect, it } from 'vitest';
import { composeApiSchemaSdl, isSupergraphFresh } from '../../scripts/compose-supergraph.js';
import { apiSchemaSdl, composeSupergraph, CompositionError, loadSupergraphSdl, placeholderUrl } from '../src/index.js';

const link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])';

describe('supergraph composition', () => {
  it('keeps the checked-in supergraph equal to a fresh composition of subgraphs/*/schema.graphql', () => {
    expect(isSupergraphFresh()).toBe(true);
  });

  it('writes placeholder URLs that can never resolve, one per subgraph', () => {
    const sdl = loadSupergraphSdl();
    for (const name of ['access', 'billing', 'compute', 'platform', 'workloads']) {
      expect(sdl).toContain(`url: "${placeholderUrl(name)}"`);
    }
  });

  it('reports every composition problem in one readable error', () => {
    const compose = () =>
      composeSupergraph([
        { name: 'one', typeDefs: `${link}\n type Money { amountMinor: String! }\n type Query { a: Money }` },
        { name: 'two', typeDefs: `${link}\n type Money { amountMinor: Int! }\n type Query { b: Money }` },
      ]);
    expect(compose).toThrow(CompositionError);
    expect(compose).toThrow(/Supergraph composition failed:\n {2}- .*Money\.amountMinor/);
  });

  it('derives a client API schema without federation machinery', () => {
    const api = composeApiSchemaSdl();
    expect(api).toContain('platformInfo: PlatformInfo!');
    expect(api).toMatch(/type Allocation \{[^}]*project: Project!/);
    expect(api).not.toMatch(/join__|@link|_entities|_service/);
    expect(apiSchemaSdl(loadSupergraphSdl()).trimEnd()).toBe(api.trimEnd());
  });
});
