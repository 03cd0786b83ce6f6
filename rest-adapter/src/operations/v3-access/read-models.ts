import { toPage, type Connection } from '../../graphql/connections.js';

type Json = Record<string, unknown>;

/**
 * A project with inline members as /api/v3/access shows it. Allocation counts and balances belong to compute and
 * billing, which do not extend Project yet: the contract makes them nullable ("did not answer"), so they are null.
 */
export function v3Project(project: Json): Json {
  const { members, ...rest } = project as Json & { members: Connection<unknown>; memberCount: number };
  const listed = toPage(members).data;
  return {
    ...rest,
    members: listed,
    membersTruncated: (project['memberCount'] as number) > listed.length,
    liveAllocationCount: null,
    balance: null,
    runwaySeconds: null,
    lowBalance: null,
  };
}

/**
 * The caller with up to 100 projects inline, personal first and otherwise in the order listed (newest first);
 * `projectsTruncated` when the connection has more.
 */
export function v3Me(me: Json): Json {
  const { projects, ...rest } = me as Json & { projects: Connection<Json> };
  const listed = [...toPage(projects).data].sort((a, b) => Number(b['personal'] === true) - Number(a['personal'] === true));
  return { ...rest, projects: listed, projectsTruncated: projects.pageInfo.hasNextPage };
}
