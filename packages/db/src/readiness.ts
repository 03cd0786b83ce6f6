import pg from 'pg';
import { redactUrl } from './database-url.js';

/**
 * A readiness check (service-kit's ReadinessCheck shape): resolves when Postgres answers a query, throws a short
 * reason when it does not. Given a url it opens and closes its own connection; given a pool it borrows one.
 */
export async function checkDatabase(target: string | pg.Pool, timeoutMs = 2_000): Promise<void> {
  if (typeof target !== 'string') {
    await target.query('SELECT 1');
    return;
  }
  const client = new pg.Client({ connectionString: target, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`postgres not ready at ${redactUrl(target)}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
