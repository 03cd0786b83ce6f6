import type { Redis } from 'ioredis';
import type { ReadinessCheck } from '@gpuaas/service-kit';

/** One readiness check per subgraph: its `/healthz` answers 2xx within the time limit. */
export function subgraphReadiness(urls: Readonly<Record<string, string>>, timeoutMs = 1500): Record<string, ReadinessCheck> {
  return Object.fromEntries(
    Object.entries(urls).map(([name, url]) => [
      name,
      async () => {
        const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(timeoutMs) });
        await response.arrayBuffer();
        // ci-allow canonical_error_guard: readiness probe reason, reported on /readyz only
        if (!response.ok) throw new Error(`/healthz answered ${response.status}`);
      },
    ]),
  );
}

/** Redis holds the revocation marks every authenticated request is checked against. */
export function redisReadiness(redis: Redis): ReadinessCheck {
  return async () => {
    const reply = await redis.ping();
    // ci-allow canonical_error_guard: readiness probe reason, reported on /readyz only
    if (reply !== 'PONG') throw new Error(`PING answered ${reply}`);
  };
}
