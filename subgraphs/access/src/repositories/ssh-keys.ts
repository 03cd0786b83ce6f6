import type { SshKeyAlgorithm } from '@gpuaas/auth';
import type { PageRequest } from '../pagination.js';
import { cursorTimestamp, fromCursorTimestamp, type Db } from './db.js';

export interface SshKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly algorithm: SshKeyAlgorithm;
  readonly bits: number;
  readonly fingerprint: string;
  readonly publicKey: string;
  readonly createdAt: Date;
  readonly cursorTs: string;
}

interface Row {
  id: string;
  name: string;
  algorithm: SshKeyAlgorithm;
  bits: number;
  fingerprint: string;
  public_key: string;
  created_at: Date;
  cursor_ts: string;
}

const COLUMNS = `id, name, algorithm, bits, fingerprint, public_key, created_at, ${cursorTimestamp('created_at')} AS cursor_ts`;

const toRecord = (row: Row): SshKeyRecord => ({
  id: row.id,
  name: row.name,
  algorithm: row.algorithm,
  bits: row.bits,
  fingerprint: row.fingerprint,
  publicKey: row.public_key,
  createdAt: row.created_at,
  cursorTs: row.cursor_ts,
});

export async function insertSshKey(
  db: Db,
  userId: string,
  key: { id: string; name: string; algorithm: SshKeyAlgorithm; bits: number; fingerprint: string; publicKey: string },
): Promise<SshKeyRecord> {
  const { rows } = await db.query<Row>(
    `INSERT INTO access.ssh_keys (id, user_id, name, algorithm, bits, fingerprint, public_key) VALUES ($1, $2, $3, $4, $5, $6, $7)
     RETURNING ${COLUMNS}`,
    [key.id, userId, key.name, key.algorithm, key.bits, key.fingerprint, key.publicKey],
  );
  return toRecord(rows[0] as Row);
}

export async function findSshKey(db: Db, userId: string, keyId: string): Promise<SshKeyRecord | null> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM access.ssh_keys WHERE user_id = $1 AND id = $2`, [userId, keyId]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Newest first; one row more than the page. */
export async function listSshKeys(db: Db, userId: string, page: PageRequest): Promise<SshKeyRecord[]> {
  const params: unknown[] = [userId];
  let after = '';
  if (page.after) {
    params.push(page.after.ts, page.after.id);
    after = `AND (created_at, id) < (${fromCursorTimestamp('$2')}, $3::uuid)`;
  }
  params.push(page.first + 1);
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM access.ssh_keys WHERE user_id = $1 ${after} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toRecord);
}

export async function deleteSshKey(db: Db, userId: string, keyId: string): Promise<boolean> {
  const result = await db.query('DELETE FROM access.ssh_keys WHERE user_id = $1 AND id = $2', [userId, keyId]);
  return (result.rowCount ?? 0) === 1;
}
