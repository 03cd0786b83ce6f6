import type pg from 'pg';

type Db = pg.Pool | pg.PoolClient;

export interface AllocationAccess {
  readonly id: string;
  readonly projectId: string;
  readonly state: string;
  readonly nodeId: string | null;
  /** The caller's role in the allocation's project (access.project_role_of), null when not a member. */
  readonly role: string | null;
}

/** The allocation with the caller's project role, or undefined when it does not exist. */
export async function findAllocationAccess(db: Db, allocationId: string, userId: string): Promise<AllocationAccess | undefined> {
  const { rows } = await db.query<AllocationAccess>(
    `SELECT a.id, a.project_id AS "projectId", a.state, a.node_id AS "nodeId", access.project_role_of(a.project_id, $2) AS role
       FROM compute.allocations a WHERE a.id = $1`,
    [allocationId, userId],
  );
  return rows[0];
}

export async function insertTerminalSession(
  db: Db,
  session: { id: string; allocationId: string; userId: string; tokenHash: string; ttlSeconds: number },
): Promise<{ expiresAt: Date }> {
  const { rows } = await db.query<{ expiresAt: Date }>(
    `INSERT INTO compute.terminal_sessions (id, allocation_id, user_id, token_hash, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING expires_at AS "expiresAt"`,
    [session.id, session.allocationId, session.userId, session.tokenHash, session.ttlSeconds],
  );
  return rows[0]!;
}

export interface SpentSession {
  readonly id: string;
  readonly allocationId: string;
  readonly userId: string;
}

/** Spends a token: only the first caller before expiry gets the row back (one atomic UPDATE). */
export async function spendTerminalToken(db: Db, tokenHash: string): Promise<SpentSession | undefined> {
  const { rows } = await db.query<SpentSession>(
    `UPDATE compute.terminal_sessions SET used_at = now()
      WHERE token_hash = $1 AND used_at IS NULL AND closed_at IS NULL AND expires_at > now()
      RETURNING id, allocation_id AS "allocationId", user_id AS "userId"`,
    [tokenHash],
  );
  return rows[0];
}

/** A session an agent of `nodeId` may attach to: spent by a browser, not closed, its allocation on that node. */
export async function findAttachableSession(db: Db, sessionId: string, nodeId: string): Promise<{ id: string; allocationId: string } | undefined> {
  const { rows } = await db.query<{ id: string; allocationId: string }>(
    `SELECT s.id, s.allocation_id AS "allocationId"
       FROM compute.terminal_sessions s JOIN compute.allocations a ON a.id = s.allocation_id
      WHERE s.id = $1 AND s.used_at IS NOT NULL AND s.closed_at IS NULL AND a.node_id = $2 AND a.state = 'active'`,
    [sessionId, nodeId],
  );
  return rows[0];
}

/** Marks the session ended; the first close wins and later ones change nothing. */
export async function closeTerminalSession(db: Db, sessionId: string): Promise<boolean> {
  const result = await db.query('UPDATE compute.terminal_sessions SET closed_at = now() WHERE id = $1 AND closed_at IS NULL', [sessionId]);
  return (result.rowCount ?? 0) > 0;
}
