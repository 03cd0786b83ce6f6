export { Migration } from '@mikro-orm/migrations';
export type { MigrationObject } from '@mikro-orm/core';
export * from './orm.js';
export * from './run-migrations.js';
export * from './audit.js';
export * from './transaction.js';
export * from './readiness.js';
export * from './database-url.js';
export * from './uuid.js';
