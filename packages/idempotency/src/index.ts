export * from './fingerprint.js';
export * from './headers.js';
export * from './records.js';
export * from './store.js';
