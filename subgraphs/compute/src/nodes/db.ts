import type pg from 'pg';

/** The pool for a read, or the caller's transaction client. */
export type Db = pg.Pool | pg.PoolClient;
