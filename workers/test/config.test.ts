import { describe, expect, it } from 'vitest';
import { ConfigError, resolvePolicies } from '@gpuaas/config';
import { loadWorkersConfig, workerRoles } from '../src/index.js';

describe('workers config', () => {
  it('runs every role on port 4201 against the local services by default', () => {
    expect(loadWorkersConfig({})).toEqual({
      nodeEnv: 'development',
      logLevel: 'info',
      host: '127.0.0.1',
      port: 4201,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/gpuaas',
      databasePoolSize: 20,
      natsUrl: 'nats://127.0.0.1:4222',
      natsNamespace: '',
      roles: [...workerRoles],
      outboxBatchSize: 100,
      outboxPollIntervalMs: 1000,
      maxDeliver: 5,
      consumerAckWaitMs: 30_000,
      policies: resolvePolicies({}),
    });
  });

  it('runs only the roles listed in WORKER_ROLES', () => {
    expect(loadWorkersConfig({ WORKER_ROLES: ' dlq-handler , dlq-handler' }).roles).toEqual(['dlq-handler']);
    expect(loadWorkersConfig({ WORKER_ROLES: 'all' }).roles).toEqual([...workerRoles]);
  });

  it('reports every problem at once, naming unknown roles', () => {
    try {
      loadWorkersConfig({ WORKER_ROLES: 'outbox-relay,mailer', PORT: 'eighty', NATS_NAMESPACE: 'has.dot' });
      expect.unreachable('config should have been rejected');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const { problems } = error as ConfigError;
      expect(problems).toHaveLength(3);
      expect(problems.join('\n')).toMatch(/WORKER_ROLES: unknown role\(s\) mailer/);
      expect(problems.join('\n')).toMatch(/PORT/);
      expect(problems.join('\n')).toMatch(/NATS_NAMESPACE/);
    }
  });
});
