export * from './policies.js';
export * from './load-config.js';
