/** A Relay connection as the GraphQL schema shapes every list. */
export interface Connection<Node> {
  readonly edges: ReadonlyArray<{ readonly node: Node; readonly cursor?: string }>;
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor?: string | null };
}

/** A REST page before its keys are snake-cased: `{ data, nextCursor }`. */
export interface Page<Node> {
  readonly data: Node[];
  readonly nextCursor: string | null;
}

/** Relay connection → REST page: the nodes, and the end cursor only while there is a next page. */
export function toPage<Node>(connection: Connection<Node>): Page<Node> {
  const nextCursor = connection.pageInfo.hasNextPage ? (connection.pageInfo.endCursor ?? null) : null;
  return { data: connection.edges.map((edge) => edge.node), nextCursor };
}

/** REST `cursor` and `limit` (the contract defaults `limit`) → Relay `after` and `first`. */
export function pageArguments(query: Readonly<Record<string, unknown>>): { first: unknown; after: unknown } {
  return { first: query['limit'], after: query['cursor'] };
}
