import { documentsBeside, graphqlOperation } from '../graphql-operation.js';
import type { OperationHandlers } from '../registry.js';

const doc = documentsBeside(import.meta.url);

type Json = Record<string, unknown>;

/** REST resolutions are bucket sizes; GraphQL enum values cannot start with a digit. */
const RESOLUTIONS: Record<string, string> = { raw: 'raw', '10s': 'ten_seconds', '1m': 'one_minute', '5m': 'five_minutes', '1h': 'one_hour' };
const REST_RESOLUTIONS = Object.fromEntries(Object.entries(RESOLUTIONS).map(([rest, graphql]) => [graphql, rest]));

const sample = (value: Json | null): Json | null =>
  value === null ? null : { ...value, memoryUsedBytes: Number(value['memoryUsedBytes']), memoryTotalBytes: Number(value['memoryTotalBytes']) };

/** Guest telemetry of an allocation (GET /api/v1/allocations/{id}/telemetry). */
export const telemetryHandlers = {
  getAllocationTelemetry: graphqlOperation({
    document: doc('get-allocation-telemetry'),
    variables: (ctx) => {
      const resolution = ctx.query['resolution'];
      return {
        id: ctx.params['id'],
        ...(ctx.query['from'] === undefined ? {} : { from: ctx.query['from'] }),
        ...(ctx.query['to'] === undefined ? {} : { to: ctx.query['to'] }),
        ...(typeof resolution === 'string' ? { resolution: RESOLUTIONS[resolution] } : {}),
      };
    },
    respond: (data) => {
      const telemetry = (data['allocation'] as Json)['telemetry'] as Json & { series: Array<Json & { latest: Json | null; samples: Json[] }> };
      return {
        status: 200,
        body: {
          ...telemetry,
          resolution: REST_RESOLUTIONS[telemetry['resolution'] as string],
          series: telemetry.series.map((series) => ({ ...series, latest: sample(series.latest), samples: series.samples.map(sample) })),
        },
      };
    },
  }),
} satisfies OperationHandlers;
