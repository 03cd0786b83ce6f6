import type { ClientBase } from 'pg';
import type { EntityManager } from '@mikro-orm/postgresql';
import { uuidv7 } from './uuid.js';

export type AuditDomain = 'access' | 'compute' | 'billing' | 'workloads' | 'platform';
export type AuditActorKind = 'user' | 'admin' | 'system' | 'node';

export interface AuditEntry {
  domain: AuditDomain;
  actorKind: AuditActorKind;
  /** Required unless actorKind is 'system'. */
  actorId?: string | null;
  /** Dotted, lower-case: `user.suspend`, `refund.approve`. */
  action: string;
  targetType: string;
  targetId?: string | null;
  correlationId?: string | null;
  details?: Record<string, unknown>;
  /** Defaults to a fresh uuid v7. */
  id?: string;
}

/**
 * Where the audit row is written: the caller's transaction, either a MikroORM EntityManager inside
 * `em.transactional(...)` or a pg client on which the caller has issued BEGIN.
 */
export type AuditExecutor = EntityManager | ClientBase;

const COLUMNS = 'id, domain, actor_kind, actor_id, action, target_type, target_id, correlation_id, details';

/**
 * Inserts an `infra.audit_logs` row in the caller's transaction, so the privileged change and its audit record
 * commit or roll back together. An EntityManager without an open transaction is refused rather than silently
 * auditing outside it. Returns the row id.
 */
export async function recordAudit(executor: AuditExecutor, entry: AuditEntry): Promise<string> {
  const id = entry.id ?? uuidv7();
  const values = [
    id,
    entry.domain,
    entry.actorKind,
    entry.actorId ?? null,
    entry.action,
    entry.targetType,
    entry.targetId ?? null,
    entry.correlationId ?? null,
    JSON.stringify(entry.details ?? {}),
  ];
  if (isEntityManager(executor)) {
    const trx = executor.getTransactionContext();
    if (!trx) throw new Error('recordAudit needs the EntityManager of an open transaction (em.transactional)');
    await executor
      .getConnection()
      .execute(`INSERT INTO infra.audit_logs (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)`, values, 'run', trx);
  } else {
    await executor.query(`INSERT INTO infra.audit_logs (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`, values);
  }
  return id;
}

function isEntityManager(executor: AuditExecutor): executor is EntityManager {
  return typeof (executor as Partial<EntityManager>).getTransactionContext === 'function';
}
