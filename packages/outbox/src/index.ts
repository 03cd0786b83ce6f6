export * from './write-outbox.js';
export * from './relay.js';
