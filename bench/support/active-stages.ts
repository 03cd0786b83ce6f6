import type pg from 'pg';
import { percentile } from './fixed-rate-load.js';

export interface ActiveSample {
  readonly allocationId: string;
  /** Wall clock (ms since the epoch) when the create request was sent and when ACTIVE reached the subscriber. */
  readonly sentWallMs: number;
  readonly activeSeenWallMs: number;
}

export interface StageRow {
  readonly stage: string;
  readonly p50: number;
  readonly p99: number;
}

interface Timeline {
  readonly allocation_id: string;
  readonly requested_at: Date;
  readonly requested_published_at: Date | null;
  readonly task_created_at: Date | null;
  readonly task_leased_at: Date | null;
  readonly task_completed_at: Date | null;
  readonly active_at: Date | null;
  readonly active_published_at: Date | null;
}

/**
 * Splits each allocation's way to ACTIVE into stages, from the timestamps the platform wrote (Postgres and this
 * process share the machine's clock; `now()` is the writing transaction's start, and the relay's `published_at` is
 * when its batch transaction began, before it awaits each row's publish ack): create → `provisioning.requested` published by the outbox relay → provision task queued by
 * the provisioning worker → task leased by the agent's long-poll → result recorded → `provisioning.active`
 * published → seen by the subscriber (JetStream → compute live feed → gateway bridge → graphql-ws).
 */
export async function stageBreakdown(db: pg.Pool, samples: readonly ActiveSample[]): Promise<StageRow[]> {
  const { rows } = await db.query<Timeline>(
    `SELECT a.id AS allocation_id,
            (SELECT min(t.at) FROM compute.allocation_transitions t WHERE t.allocation_id = a.id AND t.to_state = 'requested') AS requested_at,
            (SELECT min(o.published_at) FROM infra.outbox o WHERE o.subject LIKE '%provisioning.requested' AND o.envelope->'payload'->>'allocation_id' = a.id::text) AS requested_published_at,
            k.created_at AS task_created_at, k.leased_at AS task_leased_at, k.completed_at AS task_completed_at,
            (SELECT min(t.at) FROM compute.allocation_transitions t WHERE t.allocation_id = a.id AND t.to_state = 'active') AS active_at,
            (SELECT min(o.published_at) FROM infra.outbox o WHERE o.subject LIKE '%provisioning.active' AND o.envelope->'payload'->>'allocation_id' = a.id::text) AS active_published_at
       FROM compute.allocations a
       LEFT JOIN LATERAL (SELECT * FROM compute.node_tasks k WHERE k.allocation_id = a.id AND k.kind = 'provision' ORDER BY k.created_at LIMIT 1) k ON true
      WHERE a.id = ANY ($1::uuid[])`,
    [samples.map((sample) => sample.allocationId)],
  );
  const byId = new Map(rows.map((row) => [row.allocation_id, row]));
  const ms = (date: Date | null) => (date ? date.getTime() : Number.NaN);
  const stages: Array<[string, (sample: ActiveSample, timeline: Timeline) => number]> = [
    ['request sent → allocation row written (REST → gateway → compute)', (s, t) => ms(t.requested_at) - s.sentWallMs],
    ['row written → relay batch with provisioning.requested began', (_s, t) => ms(t.requested_published_at) - ms(t.requested_at)],
    ['relay batch began → provision task queued (publish → worker)', (_s, t) => ms(t.task_created_at) - ms(t.requested_published_at)],
    ['task queued → leased by the agent (wake → long-poll answer)', (_s, t) => ms(t.task_leased_at) - ms(t.task_created_at)],
    ['task leased → result recorded, allocation active (agent run + POST)', (_s, t) => ms(t.active_at) - ms(t.task_leased_at)],
    ['active → relay batch with provisioning.active began', (_s, t) => ms(t.active_published_at) - ms(t.active_at)],
    ['relay batch began → seen by subscriber (publish → feed → gateway)', (s, t) => s.activeSeenWallMs - ms(t.active_published_at)],
    ['(total) request sent → seen by subscriber', (s) => s.activeSeenWallMs - s.sentWallMs],
  ];
  return stages.map(([stage, measure]) => {
    const values = samples
      .map((sample) => {
        const timeline = byId.get(sample.allocationId);
        return timeline ? measure(sample, timeline) : Number.NaN;
      })
      .filter((value) => Number.isFinite(value))
      .sort((a, b) => a - b);
    return { stage, p50: percentile(values, 0.5), p99: percentile(values, 0.99) };
  });
}
