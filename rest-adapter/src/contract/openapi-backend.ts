import { OpenAPIBackend, type AjvCustomizer, type Document, type Handler } from 'openapi-backend';
import addFormatsModule from 'ajv-formats';
import { dereference } from './dereference.js';

// ajv-formats is CommonJS: under NodeNext the default import is `module.exports`, whose `.default` is the plugin.
const addFormats = addFormatsModule.default;

/**
 * Adds uuid, email, date-time and friends (openapi-backend only knows the OpenAPI number formats) and reuses
 * one Ajv per validation context: openapi-backend makes a fresh Ajv for every validator, and setting one up
 * costs more than compiling a schema, which made start-up several times slower.
 */
export function createAjvCustomizer(): AjvCustomizer {
  const byContext = new Map<string, ReturnType<AjvCustomizer>>();
  return (ajv, _options, context) => {
    let shared = byContext.get(context);
    if (!shared) {
      shared = addFormats(ajv);
      byContext.set(context, shared);
    }
    return shared;
  };
}

export interface BuildOptions {
  handlers?: Record<string, Handler>;
  securityHandlers?: Record<string, Handler>;
}

/**
 * One openapi-backend over the contract. `quick: true` because openapi-backend checks documents against the
 * OpenAPI 3.0 meta-schema and, for a 3.1 document, silently ends up with no definition (every route a 404);
 * the document is linted in CI instead. Quick mode also defers validator compilation to the first request,
 * so the caller compiles them right after this returns (see precompileRequestValidators).
 */
export async function buildOpenApiBackend(document: Document, options: BuildOptions = {}): Promise<OpenAPIBackend> {
  const api = new OpenAPIBackend({
    definition: dereference(document),
    quick: true,
    strict: true,
    validate: true,
    coerceTypes: true,
    // every problem at once, and contract defaults (e.g. limit) filled in for handlers
    ajvOpts: { allErrors: true, useDefaults: true },
    customizeAjv: createAjvCustomizer(),
    handlers: options.handlers ?? {},
    securityHandlers: options.securityHandlers ?? {},
  });
  await api.init();
  const declared = Object.keys((document as { paths?: object }).paths ?? {}).length;
  // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
  if (declared > 0 && api.router.getOperations().length === 0) throw new Error('openapi-backend loaded the contract without any operation');
  return api;
}

/**
 * Compiles every operation's request validators now and runs each once on an empty request, so that neither
 * the schema compile nor V8's lazy compile of the generated function lands on a client's first request.
 * Returns how many operations have validators.
 */
export function precompileRequestValidators(api: OpenAPIBackend): number {
  api.validator.preCompileRequestValidators();
  const compiled = Object.values(api.validator.requestValidators).filter((validators) => validators !== null);
  for (const validators of compiled) {
    for (const validate of validators ?? []) validate({ path: {}, query: {}, header: {}, cookie: {} });
  }
  return compiled.length;
}
