import pg from 'pg';

/** Postgres identifiers we create (databases, schemas) are restricted to this shape so they never need escaping rules. */
const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSafeIdentifier(name: string, what = 'identifier'): string {
  if (!SAFE_IDENTIFIER.test(name)) throw new Error(`unsafe ${what} ${JSON.stringify(name)}: use lower-case letters, digits and _`);
  return name;
}

export function databaseNameOf(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`database url names no database: ${redactUrl(databaseUrl)}`);
  return name;
}

/** The same server and credentials, another database (e.g. the `postgres` maintenance database). */
export function withDatabaseName(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** For logs and errors: the url without its password. */
export function redactUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password) url.password = '***';
  return url.toString();
}

/**
 * Creates the url's database when it does not exist yet (connecting to the `postgres` maintenance database).
 * Returns true when it created it. Safe to race: a concurrent creator's "already exists" counts as success.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = assertSafeIdentifier(databaseNameOf(databaseUrl), 'database name');
  const admin = new pg.Client({ connectionString: withDatabaseName(databaseUrl, 'postgres') });
  await admin.connect();
  try {
    const existing = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount) return false;
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
      return true;
    } catch (error) {
      // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on pg_database's unique index.
      const code = (error as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  } finally {
    await admin.end();
  }
}
