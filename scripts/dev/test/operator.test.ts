import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '@gpuaas/auth';
import { createTestDatabase, type TestDatabase } from '@gpuaas/testkit';
import { DEV_OPERATOR_EMAIL, ensureDevOperator } from '../operator.js';

let database: TestDatabase;
let db: pg.Pool;
let dataDir: string;
let credentialFile: string;

beforeAll(async () => {
  database = await createTestDatabase();
  db = new pg.Pool({ connectionString: database.url, max: 2 });
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

beforeEach(async () => {
  // Each test starts from a first start: no operator row, no credential file.
  await db.query('DELETE FROM access.project_members WHERE user_id IN (SELECT id FROM access.users WHERE email = $1)', [DEV_OPERATOR_EMAIL]);
  await db.query('DELETE FROM access.projects WHERE owner_id IN (SELECT id FROM access.users WHERE email = $1)', [DEV_OPERATOR_EMAIL]);
  await db.query('DELETE FROM access.users WHERE email = $1', [DEV_OPERATOR_EMAIL]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = await mkdtemp(join(tmpdir(), 'gpuaas-dev-operator-'));
  credentialFile = join(dataDir, 'nested', 'operator.json');
});

async function operatorRow() {
  const { rows } = await db.query<{ id: string; role: string; status: string; password_hash: string; token_version: number; email_verified_at: Date | null }>(
    'SELECT id, role, status, password_hash, token_version, email_verified_at FROM access.users WHERE email = $1',
    [DEV_OPERATOR_EMAIL],
  );
  return rows[0];
}

async function auditActions(userId: string): Promise<Array<{ action: string; actor_kind: string }>> {
  const { rows } = await db.query<{ action: string; actor_kind: string }>(
    "SELECT action, actor_kind FROM infra.audit_logs WHERE target_type = 'user' AND target_id = $1 ORDER BY occurred_at, id",
    [userId],
  );
  return rows;
}

const storedCredential = async () => JSON.parse(await readFile(credentialFile, 'utf8')) as { email: string; password: string };

describe('the dev operator account', () => {
  it('is created on first start as an active platform admin with a personal project, audited as the system, its password kept private', async () => {
    const operator = await ensureDevOperator(database.url, credentialFile);

    expect(operator).toMatchObject({ email: DEV_OPERATOR_EMAIL, action: 'created', credentialFile });
    expect(operator.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const row = await operatorRow();
    expect(row).toMatchObject({ id: operator.userId, role: 'admin', status: 'active' });
    expect(row!.email_verified_at).not.toBeNull();
    expect(await verifyPassword(operator.password!, row!.password_hash)).toBe(true);
    const { rows: projects } = await db.query('SELECT 1 FROM access.projects WHERE owner_id = $1 AND personal', [operator.userId]);
    expect(projects).toHaveLength(1);
    expect(await auditActions(operator.userId)).toEqual([{ action: 'user.role_change', actor_kind: 'system' }]);
    expect(await storedCredential()).toEqual({ email: DEV_OPERATOR_EMAIL, password: operator.password });
    expect((await stat(credentialFile)).mode & 0o777).toBe(0o600);
  });

  it('is reused on a later start with the same password and nothing new audited', async () => {
    const first = await ensureDevOperator(database.url, credentialFile);
    const again = await ensureDevOperator(database.url, credentialFile);

    expect(again).toMatchObject({ userId: first.userId, password: first.password, action: 'reused' });
    expect(await auditActions(first.userId)).toHaveLength(1);
  });

  it('gets a new password, ending its sessions, when the stored one is gone', async () => {
    const first = await ensureDevOperator(database.url, credentialFile);
    const versionBefore = (await operatorRow())!.token_version;
    await rm(credentialFile);

    const reset = await ensureDevOperator(database.url, credentialFile);

    expect(reset).toMatchObject({ userId: first.userId, action: 'password_reset' });
    expect(reset.password).not.toBe(first.password);
    const row = (await operatorRow())!;
    expect(await verifyPassword(reset.password!, row.password_hash)).toBe(true);
    expect(await verifyPassword(first.password!, row.password_hash)).toBe(false);
    expect(row.token_version).toBe(versionBefore + 1);
    expect((await storedCredential()).password).toBe(reset.password);
    expect((await auditActions(first.userId)).map((entry) => entry.action)).toEqual(['user.role_change', 'user.password_reset']);
  });

  it('leaves a password changed on purpose alone and does not show the stale one', async () => {
    const first = await ensureDevOperator(database.url, credentialFile);
    await db.query('UPDATE access.users SET password_hash = $2 WHERE id = $1', [first.userId, await hashPassword('chosen-by-the-operator-1234')]);

    const later = await ensureDevOperator(database.url, credentialFile);

    expect(later).toMatchObject({ userId: first.userId, action: 'password_changed_elsewhere', password: undefined });
    expect(await verifyPassword('chosen-by-the-operator-1234', (await operatorRow())!.password_hash)).toBe(true);
    expect((await storedCredential()).password).toBe(first.password);
  });

  it('is made admin again, audited, when it was demoted', async () => {
    const first = await ensureDevOperator(database.url, credentialFile);
    await db.query("UPDATE access.users SET role = 'user' WHERE id = $1", [first.userId]);

    await ensureDevOperator(database.url, credentialFile);

    expect((await operatorRow())!.role).toBe('admin');
    expect((await auditActions(first.userId)).map((entry) => entry.action)).toEqual(['user.role_change', 'user.role_change']);
  });
});
