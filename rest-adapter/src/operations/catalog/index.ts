import { toPage, type Connection } from '../../graphql/connections.js';
import type { OperationHandlers } from '../registry.js';
import { byId, documentsBeside, field, graphqlOperation, page, pageQuery, type Responder, type VariablesOf } from '../graphql-operation.js';

const doc = documentsBeside(import.meta.url);

type Json = Record<string, unknown>;

interface Offer {
  region: { code: string };
  hourlyPrice: { amountMinor: string; currency: string };
  availableSlots: number;
}
interface Profile extends Json {
  memoryBytes: string;
  offers: Offer[];
}
interface GpuModel extends Json {
  memoryBytes: string;
  profiles: Profile[];
}

/** GraphQL carries int64s as strings; REST has integers (bytes and minor units stay well below 2^53). */
const gpuModelOf = (model: GpuModel): Json => ({
  ...model,
  memoryBytes: Number(model.memoryBytes),
  profiles: model.profiles.map((profile) => ({
    ...profile,
    memoryBytes: Number(profile.memoryBytes),
    offers: profile.offers.map((offer) => ({
      region: offer.region.code,
      hourlyPrice: { amountMinor: Number(offer.hourlyPrice.amountMinor), currency: offer.hourlyPrice.currency },
      availableSlots: offer.availableSlots,
    })),
  })),
});

const gpuModelPage: Responder = (data) => {
  const result = toPage(data['catalogGpuModels'] as Connection<GpuModel>);
  return { status: 200, body: { ...result, data: result.data.map(gpuModelOf) } };
};

/**
 * Models nest profiles and offers (at most 16 and 32 per parent in the document), so the gateway's cost limit allows
 * up to 50 models per request: a larger `limit` answers 50 with a `next_cursor`, as any short page does.
 */
const MAX_MODELS_PER_REQUEST = 50;

const gpuFilters: VariablesOf = (ctx) => {
  const variables = pageQuery('region', 'model')(ctx);
  const first = typeof variables['first'] === 'number' ? Math.min(variables['first'], MAX_MODELS_PER_REQUEST) : variables['first'];
  const minMemory = ctx.query['min_memory'];
  return { ...variables, first, ...(minMemory === undefined ? {} : { min_memory: String(minMemory) }) };
};

/** The public catalog: GPUs, regions and OS images under /api/v1/catalog. */
export const catalogHandlers = {
  listCatalogGpus: graphqlOperation({ document: doc('list-catalog-gpus'), variables: gpuFilters, respond: gpuModelPage }),
  listCatalogRegions: graphqlOperation({ document: doc('list-catalog-regions'), variables: pageQuery('status'), respond: page('catalogRegions') }),
  listCatalogOsImages: graphqlOperation({ document: doc('list-catalog-os-images'), variables: pageQuery('family', 'status'), respond: page('osImages') }),
  getCatalogOsImage: graphqlOperation({ document: doc('get-catalog-os-image'), variables: byId, respond: field('osImage') }),
} satisfies OperationHandlers;
