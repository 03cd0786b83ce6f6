export * from './ingest.js';
export * from './queries.js';
export { agentSampleToTelemetrySample, toTelemetrySample } from './graphql-mapping.js';
