export * from './nats.js';
export * from './redis.js';
export * from './database.js';
