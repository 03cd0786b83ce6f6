import { trace, SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

let provider: NodeTracerProvider | undefined;

export interface TracingOptions {
  serviceName: string;
  /** Where spans go. Without one, spans are created (so context propagates) but not exported. */
  exporter?: SpanExporter;
}

/** Registers the global tracer provider once per process; later calls are no-ops that return the same provider. */
export function initTracing(options: TracingOptions): NodeTracerProvider {
  if (provider) return provider;
  const spanProcessors = options.exporter
    ? [options.exporter instanceof InMemorySpanExporter ? new SimpleSpanProcessor(options.exporter) : new BatchSpanProcessor(options.exporter)]
    : [];
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors,
  });
  provider.register();
  return provider;
}

export async function shutdownTracing(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
}

export function tracer(name = 'gpuaas'): Tracer {
  return trace.getTracer(name);
}

/** Runs `fn` inside an active span; records failures on the span and rethrows them. */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

export { InMemorySpanExporter };
