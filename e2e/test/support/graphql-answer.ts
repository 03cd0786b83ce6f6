export interface GraphqlError {
  readonly message: string;
  readonly path?: ReadonlyArray<string | number>;
  readonly extensions?: Readonly<Record<string, unknown>> & { readonly code?: string };
}

/** The whole answer of one GraphQL request, errors included, for tests that assert refusals cell by cell. */
export interface GraphqlAnswer {
  readonly status: number;
  readonly data: Readonly<Record<string, unknown>> | null | undefined;
  readonly errors: ReadonlyArray<GraphqlError> | undefined;
  readonly text: string;
}

/** Posts one operation (bearer token when given, none otherwise) and returns the answer as it came. */
export async function postGraphql(url: string, query: string, variables: object = {}, token?: string): Promise<GraphqlAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  const json = JSON.parse(text) as { data?: Record<string, unknown> | null; errors?: GraphqlError[] };
  return { status: response.status, data: json.data, errors: json.errors, text };
}

/** The catalog codes of an answer's errors, in order. */
export const errorCodes = (answer: GraphqlAnswer): Array<string | undefined> => (answer.errors ?? []).map((error) => error.extensions?.code);
