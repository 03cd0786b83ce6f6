export * from './http-service.js';
export * from './subgraph-service.js';
export * from './shutdown.js';
