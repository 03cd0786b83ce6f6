import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter, initTracing, shutdownTracing, withSpan } from '@gpuaas/telemetry';

// @apollo/gateway's own instrumentation scope; its spans are silenced by default (one server span per request is kept).
const GATEWAY_SCOPE = 'apollo/gateway-js';

describe('gateway tracing', () => {
  const exporter = new InMemorySpanExporter();

  beforeAll(() => {
    initTracing({ serviceName: 'gateway-tracing-test', exporter });
  });
  afterAll(async () => {
    await shutdownTracing();
  });

  it("records no spans from @apollo/gateway's instrumentation but keeps the service's own", async () => {
    const gatewayTracer = trace.getTracer(GATEWAY_SCOPE, '2.0.0');
    const result = await withSpan('POST /graphql', {}, async (server) => {
      const inner = await gatewayTracer.startActiveSpan('gateway.request', async (span) => {
        span.setAttribute('graphql.operation.name', 'GetMe');
        // The silenced span neither records nor replaces the active (server) span.
        expect(span.isRecording()).toBe(false);
        const active = trace.getActiveSpan()?.spanContext().spanId;
        span.end();
        return active;
      });
      expect(gatewayTracer.startSpan('gateway.fetch').isRecording()).toBe(false);
      return { inner, server: server.spanContext().spanId };
    });
    expect(result.inner).toBe(result.server);
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['POST /graphql']);
  });
});
