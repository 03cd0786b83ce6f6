import type { EntitySchema } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/postgresql';

export interface CreateOrmOptions {
  databaseUrl: string;
  /** The domain's Postgres schema; entities without an explicit schema map into it. */
  schema: string;
  /** `defineEntity` / `EntitySchema` definitions only: decorators need emitDecoratorMetadata, which tsx lacks. */
  entities: EntitySchema[];
  debug?: boolean;
  /** Upper bound of the connection pool (default 10). */
  poolMax?: number;
}

/**
 * A MikroORM instance for one domain. Schema changes come only from migrations, never from the ORM, so nothing
 * here generates or validates DDL; callers own the instance and `close()` it.
 */
export async function createOrm(options: CreateOrmOptions): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: options.databaseUrl,
    schema: options.schema,
    entities: options.entities,
    discovery: { warnWhenNoEntities: false },
    debug: options.debug ?? false,
    forceUtcTimezone: true,
    pool: { min: 0, max: options.poolMax ?? 10 },
  });
}
