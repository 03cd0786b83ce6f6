/**
 * Idempotent execution of mutations keyed by `X-Idempotency-Key`, shared by every replica through Redis.
 *
 * - The first request with a key claims it (`SET NX PX`, an in-progress record with a random token) and runs.
 * - A later request with the same key and the same fingerprint gets the stored response, `replayed: true`;
 *   with another fingerprint it gets `409 idempotency_key_reused`.
 * - A duplicate arriving while the first still runs waits on a per-key pub/sub channel (no polling) for at most
 *   `waitTimeoutMs`, then answers `409 idempotency_request_in_progress` (retryable).
 * - What `run` throws decides what is kept. A non-retryable catalog 4xx (validation, conflict, not found…) is the
 *   answer to that request: it is stored and replayed like a success. A 5xx, an unexpected error or a retryable
 *   code (rate_limited, capacity_unavailable…) releases the claim so a retry executes again: such a failure
 *   either did nothing or the operation is transactional, and replaying it would make the retry pointless.
 *   The first caller always sees `run`'s own outcome (its error is rethrown); only later callers get the record.
 * - A claim lives `inProgressTtlSeconds`, so a crashed executor blocks its key only that long; keep it above the
 *   slowest operation, because a claim that expires mid-run lets a duplicate execute too. The expired claimant's
 *   late completion is then ignored (only the current token may complete or release a claim).
 * - Completed records are kept `retentionSeconds` (policy `idempotency_retention_hours`, 24 h by default).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { policyCatalog } from '@gpuaas/config';
import { AppError, errorCatalog, toErrorResponse } from '@gpuaas/errors';
import { currentCorrelationId } from '@gpuaas/telemetry';
import { CompletionListener } from './completion-listener.js';
import { IDEMPOTENT_REPLAYED_HEADER } from './headers.js';
import { type CompletedRecord, type InProgressRecord, type StoredResponse, decodeRecord, keepHeaders } from './records.js';
import { claimScript, completeScript, releaseScript } from './scripts.js';
import { createWakeSignal } from './wake-signal.js';

export interface IdempotencyScope {
  /** Who calls (user id, or agent/node id): two callers' keys never collide. */
  readonly principal: string;
  /** The contract's operationId: one key reused on another operation is a different record. */
  readonly operationId: string;
}

export interface IdempotentRequest {
  readonly scope: IdempotencyScope;
  readonly key: string;
  /** From `fingerprintRequest()`. */
  readonly requestFingerprint: string;
}

export interface IdempotencyResult {
  readonly response: StoredResponse;
  /** True when `run` did not execute for this call; the response then carries `idempotent-replayed: true`. */
  readonly replayed: boolean;
}

export interface IdempotencyStoreOptions {
  readonly redis: Redis;
  /** Deployment-wide prefix (REDIS_KEY_PREFIX); the store adds `idem:` below it. */
  readonly keyPrefix: string;
  /** How long a completed record is replayed. Default: policy `idempotency_retention_hours`. */
  readonly retentionSeconds?: number;
  /** How long a claim blocks its key when its executor never finishes. Default 60. */
  readonly inProgressTtlSeconds?: number;
  /** How long a concurrent duplicate waits for the first execution. Default 10 000. */
  readonly waitTimeoutMs?: number;
  /** Response headers worth replaying (case-insensitive). Default content-type, location, etag. */
  readonly replayHeaders?: readonly string[];
  /** Told when Redis fails to record an outcome after `run` finished; the caller still gets `run`'s outcome. */
  readonly onStoreError?: (error: unknown) => void;
}

export interface IdempotencyStore {
  execute(request: IdempotentRequest, run: () => Promise<StoredResponse>): Promise<IdempotencyResult>;
  /** Closes the store's own subscriber connection; the caller's `redis` stays open. */
  close(): Promise<void>;
}

const DEFAULT_IN_PROGRESS_TTL_SECONDS = 60;
const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
const DEFAULT_REPLAY_HEADERS = ['content-type', 'location', 'etag'];

export function createIdempotencyStore(options: IdempotencyStoreOptions): IdempotencyStore {
  const { redis, keyPrefix } = options;
  const retentionMs = positiveMs('retentionSeconds', options.retentionSeconds ?? policyCatalog.idempotency_retention_hours.default * 3600);
  const claimTtlMs = positiveMs('inProgressTtlSeconds', options.inProgressTtlSeconds ?? DEFAULT_IN_PROGRESS_TTL_SECONDS);
  const waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const replayHeaders = new Set((options.replayHeaders ?? DEFAULT_REPLAY_HEADERS).map((name) => name.toLowerCase()));
  const onStoreError = options.onStoreError ?? (() => undefined);
  const listener = new CompletionListener(redis);
  // PUBLISH names are not prefixed by ioredis the way keys are, so the client's own prefix is added by hand.
  const channelPrefix = `${redis.options.keyPrefix ?? ''}${keyPrefix}idem:done:`;

  function locate(request: IdempotentRequest): { recordKey: string; channel: string } {
    const { principal, operationId } = request.scope;
    const id = createHash('sha256').update(JSON.stringify([principal, operationId, request.key])).digest('hex');
    return { recordKey: `${keyPrefix}idem:${id}`, channel: `${channelPrefix}${id}` };
  }

  async function runAsClaimant(
    recordKey: string,
    channel: string,
    claim: InProgressRecord,
    run: () => Promise<StoredResponse>,
  ): Promise<IdempotencyResult> {
    const complete = (response: StoredResponse) => {
      const record: CompletedRecord = {
        state: 'completed',
        fingerprint: claim.fingerprint,
        response: { status: response.status, headers: keepHeaders(response.headers, replayHeaders), body: response.body ?? null },
        completed_at: new Date().toISOString(),
      };
      return completeScript.run(redis, [recordKey], [claim.token, JSON.stringify(record), retentionMs, channel]).catch(onStoreError);
    };
    let response: StoredResponse;
    try {
      response = await run();
    } catch (error) {
      const stored = storableErrorResponse(error);
      if (stored) await complete(stored);
      else await releaseScript.run(redis, [recordKey], [claim.token, channel]).catch(onStoreError);
      throw error;
    }
    await complete(response);
    return { response, replayed: false };
  }

  return {
    async execute(request, run) {
      const { recordKey, channel } = locate(request);
      const claim: InProgressRecord = { state: 'in_progress', token: randomUUID(), fingerprint: request.requestFingerprint };
      const claimJson = JSON.stringify(claim);
      const deadline = Date.now() + waitTimeoutMs;
      const signal = createWakeSignal();
      let stopListening: (() => void) | undefined;
      try {
        for (;;) {
          const [claimed, raw, pttl] = (await claimScript.run(redis, [recordKey], [claimJson, claimTtlMs])) as [number, string?, number?];
          if (claimed === 1) {
            stopListening?.();
            stopListening = undefined;
            return await runAsClaimant(recordKey, channel, claim, run);
          }
          const record = decodeRecord(raw ?? '');
          if (record.fingerprint !== request.requestFingerprint) {
            throw new AppError('idempotency_key_reused', 'This idempotency key was already used with a different request');
          }
          if (record.state === 'completed') return { response: replayOf(record.response), replayed: true };
          const remaining = deadline - Date.now();
          if (remaining <= 0) {
            throw new AppError('idempotency_request_in_progress', 'A request with this idempotency key is still in progress; retry to get its response');
          }
          if (!stopListening) {
            // Look again once subscribed: the completion may have been published before the subscription was live.
            stopListening = await listener.listen(channel, signal.notify);
            continue;
          }
          // No message arrives when a crashed executor's claim expires, so wake up when it would have.
          const claimLeftMs = pttl !== undefined && pttl > 0 ? pttl + 2 : remaining;
          await signal.wait(Math.min(remaining, claimLeftMs));
        }
      } finally {
        stopListening?.();
      }
    },
    close: () => listener.close(),
  };
}

function replayOf(response: StoredResponse): StoredResponse {
  return { ...response, headers: { ...response.headers, [IDEMPOTENT_REPLAYED_HEADER]: 'true' } };
}

/** The error envelope to keep for a non-retryable 4xx; `undefined` for anything a retry should execute again. */
function storableErrorResponse(error: unknown): StoredResponse | undefined {
  const { status, body } = toErrorResponse(error, currentCorrelationId());
  if (status < 400 || status >= 500 || errorCatalog[body.code].retryable) return undefined;
  return { status, headers: { 'content-type': 'application/json' }, body };
}

function positiveMs(name: string, seconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`${name} must be a positive number of seconds`);
  return Math.max(1, Math.round(seconds * 1000));
}
