import { trace, INVALID_SPAN_CONTEXT, SpanStatusCode, type Attributes, type Span, type Tracer, type TracerOptions } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { AlwaysOffSampler, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

let provider: NodeTracerProvider | undefined;

export interface TracingOptions {
  serviceName: string;
  /** Where spans go. Without one, spans are created unsampled (so context propagates) but neither recorded nor exported. */
  exporter?: SpanExporter;
  /**
   * Instrumentation scopes (tracer names) that get a tracer creating no spans. By default @apollo/gateway's, which
   * opens five nested active spans per operation (request, validate, plan, execute, fetch, postprocess): about a
   * tenth of the gateway's CPU per request, while the server span per HTTP request already times the whole call.
   */
  silencedScopes?: readonly string[];
}

export const DEFAULT_SILENCED_SCOPES: readonly string[] = ['apollo/gateway-js'];

/** Registers the global tracer provider once per process; later calls are no-ops that return the same provider. */
export function initTracing(options: TracingOptions): NodeTracerProvider {
  if (provider) return provider;
  const spanProcessors = options.exporter
    ? [options.exporter instanceof InMemorySpanExporter ? new SimpleSpanProcessor(options.exporter) : new BatchSpanProcessor(options.exporter)]
    : [];
  provider = new ScopeFilteringTracerProvider(new Set(options.silencedScopes ?? DEFAULT_SILENCED_SCOPES), {
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors,
    // With nowhere to send spans, recording them (attributes, events, timing) is pure cost: unsampled spans still
    // carry trace and span ids, so context and `traceparent` propagate exactly the same.
    ...(options.exporter ? {} : { sampler: new AlwaysOffSampler() }),
  });
  provider.register();
  return provider;
}

class ScopeFilteringTracerProvider extends NodeTracerProvider {
  readonly #silenced: ReadonlySet<string>;

  constructor(silenced: ReadonlySet<string>, config: ConstructorParameters<typeof NodeTracerProvider>[0]) {
    super(config);
    this.#silenced = silenced;
  }

  override getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    return this.#silenced.has(name) ? silentTracer : super.getTracer(name, version, options);
  }
}

/**
 * Hands callers a non-recording span and leaves the active context alone, so a silenced library pays neither for
 * spans nor for entering a context per span; its work is attributed to the enclosing (HTTP server) span.
 */
const silentTracer: Tracer = {
  startSpan: () => trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
  startActiveSpan: (<F extends (span: Span) => unknown>(_name: string, ...rest: unknown[]) => {
    const fn = rest[rest.length - 1] as F;
    return fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT)) as ReturnType<F>;
  }) as Tracer['startActiveSpan'],
};

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
