import type { Logger } from '@gpuaas/telemetry';

export interface Closeable {
  close(): Promise<void>;
}

/**
 * For main.ts files: on SIGTERM/SIGINT close everything in reverse start order, then exit. A second signal,
 * or a close that hangs past the deadline, exits at once with a failure code.
 */
export function closeOnSignals(logger: Logger, closeables: Closeable[], deadlineMs = 15_000): void {
  let closing = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed, exiting');
      process.exit(1);
    }, deadlineMs);
    deadline.unref();
    try {
      for (const closeable of [...closeables].reverse()) await closeable.close();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
}
