interface Served {
  readonly url: string;
}

/** The gateway's subgraph URL variables (ACCESS_URL …) for the five subgraphs a stack started in this process. */
export function subgraphUrlEnv(subgraphs: { readonly access: Served; readonly compute: Served; readonly billing: Served; readonly workloads: Served; readonly platform: Served }): Record<string, string> {
  return {
    ACCESS_URL: `${subgraphs.access.url}/graphql`,
    COMPUTE_URL: `${subgraphs.compute.url}/graphql`,
    BILLING_URL: `${subgraphs.billing.url}/graphql`,
    WORKLOADS_URL: `${subgraphs.workloads.url}/graphql`,
    PLATFORM_URL: `${subgraphs.platform.url}/graphql`,
  };
}
