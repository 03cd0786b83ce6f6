/**
 * Checks that PostgreSQL, Redis and NATS (with JetStream) answer before the platform or the tests start, and
 * says for each one that does not: where it was looked for, why it failed, and how to start it.
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

export interface ServiceUrls {
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
}

export interface ServiceProblem {
  service: 'PostgreSQL' | 'Redis' | 'NATS';
  address: string;
  reason: string;
  howToStart: string;
}

const LOCAL_START = {
  PostgreSQL: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  Redis: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
  NATS: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server',
} as const;
const COMPOSE_SERVICE = { PostgreSQL: 'postgres', Redis: 'redis', NATS: 'nats' } as const;

function howToStart(service: ServiceProblem['service']): string {
  return `docker compose up -d ${COMPOSE_SERVICE[service]}   (or, installed locally: ${LOCAL_START[service]})`;
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message || error.name : String(error));

async function checkPostgres(url: string): Promise<ServiceProblem | undefined> {
  // The platform's own database may not exist yet (migrations create it), so probe the server's `postgres` db.
  const serverUrl = new URL(url);
  serverUrl.pathname = '/postgres';
  const client = new pg.Client({ connectionString: serverUrl.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return { service: 'PostgreSQL', address: `${serverUrl.hostname}:${serverUrl.port || 5432}`, reason: reasonOf(error), howToStart: howToStart('PostgreSQL') };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis(url: string): Promise<ServiceProblem | undefined> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let lastError: unknown;
  redis.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    const parsed = new URL(url);
    return { service: 'Redis', address: `${parsed.hostname}:${parsed.port || 6379}`, reason: reasonOf(lastError ?? error), howToStart: howToStart('Redis') };
  } finally {
    redis.disconnect();
  }
}

async function checkNats(url: string): Promise<ServiceProblem | undefined> {
  try {
    const nc = await connect({ servers: url, timeout: 3000, reconnect: false });
    try {
      await (await jetstreamManager(nc)).getAccountInfo();
    } catch (error) {
      await nc.close();
      return { service: 'NATS', address: url, reason: `JetStream is not enabled (${reasonOf(error)}); start nats-server with -js`, howToStart: howToStart('NATS') };
    }
    await nc.close();
    return undefined;
  } catch (error) {
    return { service: 'NATS', address: url, reason: reasonOf(error), howToStart: howToStart('NATS') };
  }
}

export async function checkServices(urls: ServiceUrls): Promise<ServiceProblem[]> {
  const results = await Promise.all([checkPostgres(urls.databaseUrl), checkRedis(urls.redisUrl), checkNats(urls.natsUrl)]);
  return results.filter((r): r is ServiceProblem => r !== undefined);
}

export function describeProblems(problems: readonly ServiceProblem[]): string {
  return problems
    .map((p) => `✗ ${p.service} is not reachable at ${p.address}: ${p.reason}\n    start it with: ${p.howToStart}`)
    .join('\n');
}

export function serviceUrlsFromEnv(env: Readonly<Record<string, string | undefined>>): ServiceUrls {
  return {
    databaseUrl: env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/gpuaas',
    redisUrl: env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    natsUrl: env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = await checkServices(serviceUrlsFromEnv(process.env));
  if (problems.length > 0) {
    process.stderr.write(`${describeProblems(problems)}\n`);
    process.exit(1);
  }
  process.stdout.write('✓ PostgreSQL, Redis and NATS JetStream are reachable\n');
}
