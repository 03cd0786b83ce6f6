export * from './catalog.js';
export * from './app-error.js';
