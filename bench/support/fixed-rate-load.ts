import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** One request the loader repeats; `check` decides whether an answer counts as a success. */
export interface LoadTarget {
  readonly name: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly check: (status: number, body: string) => boolean;
}

export interface LoadSample {
  /** Milliseconds from writing the request to reading the whole response, one per completed request. */
  readonly latenciesMs: number[];
  readonly sent: number;
  readonly failed: number;
  /** The first few failures (status and the start of the body, or the error), to explain a non-zero `failed`. */
  readonly failures: string[];
  /** How far behind schedule the loader's own timer fired, worst case: a busy loader skews everything. */
  readonly maxLagMs: number;
  readonly elapsedMs: number;
}

/**
 * Open-loop load at a fixed rate: request i is started at t0 + i/rate whether or not earlier ones have answered,
 * as autocannon's `--overallRate` does, so a slow server shows up as latency rather than as a lower offered load.
 * Keep-alive sockets are reused through one agent per target.
 */
export async function runFixedRate(target: LoadTarget, ratePerSecond: number, durationMs: number, agent: http.Agent): Promise<LoadSample> {
  const total = Math.round((ratePerSecond * durationMs) / 1000);
  const intervalMs = 1000 / ratePerSecond;
  const latenciesMs: number[] = [];
  let failed = 0;
  const failures: string[] = [];
  const noteFailure = (what: string) => {
    failed++;
    if (failures.length < 5) failures.push(what);
  };
  let maxLagMs = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();

  for (let index = 0; index < total; index++) {
    const due = started + index * intervalMs;
    // Never early: a request sent before its time would flatter the rate. Timers count from the event loop's cached
    // clock, so one can fire a fraction of a millisecond before `due`: wait again for the remainder.
    for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) await new Promise((resolve) => setTimeout(resolve, wait));
    maxLagMs = Math.max(maxLagMs, performance.now() - due);
    const request = send(target, agent).then(
      (result) => {
        if (result.ok) latenciesMs.push(result.latencyMs);
        else noteFailure(`HTTP ${result.status}: ${result.body.slice(0, 300)}`);
      },
      (error: unknown) => noteFailure(error instanceof Error ? error.message : String(error)),
    );
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  }
  await Promise.all(inFlight);
  return { latenciesMs, sent: total, failed, failures, maxLagMs, elapsedMs: performance.now() - started };
}

function send(target: LoadTarget, agent: http.Agent): Promise<{ ok: boolean; latencyMs: number; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const begin = performance.now();
    const request = http.request(target.url, { method: target.method, headers: target.headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const latencyMs = performance.now() - begin;
        const status = response.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ ok: target.check(status, body), latencyMs, status, body });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(target.body);
  });
}

export interface Summary {
  readonly requests: number;
  readonly failed: number;
  readonly failures: string[];
  readonly reqPerSec: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly maxLagMs: number;
}

/** Merges samples of one target (from interleaved slices) into its figures. */
export function summarize(samples: readonly LoadSample[]): Summary {
  const latencies = samples.flatMap((sample) => sample.latenciesMs).sort((a, b) => a - b);
  const elapsed = samples.reduce((sum, sample) => sum + sample.elapsedMs, 0);
  return {
    requests: latencies.length,
    failed: samples.reduce((sum, sample) => sum + sample.failed, 0),
    failures: samples.flatMap((sample) => sample.failures).slice(0, 5),
    reqPerSec: elapsed > 0 ? (latencies.length * 1000) / elapsed : 0,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    maxLagMs: Math.max(0, ...samples.map((sample) => sample.maxLagMs)),
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], quantile: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * sorted.length) - 1));
  return sorted[rank]!;
}
