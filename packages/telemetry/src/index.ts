export * from './context.js';
export * from './logger.js';
export * from './tracing.js';
export * from './metrics.js';
