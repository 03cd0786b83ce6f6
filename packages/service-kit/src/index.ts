export * from './http-service.js';
export * from './subgraph-service.js';
export * from './shutdown.js';
export * from './gateway-identity.js';
export * from './subgraph-config.js';
export * from './scalars.js';
export * from './config-or-exit.js';
export * from './apollo-plugins.js';
