import { pino, type Logger, type LevelWithSilent } from 'pino';
import { currentContext } from './context.js';

export type { Logger };

/** A pino logger whose every line carries the service name and the current correlation id. */
export function createLogger(service: string, level: LevelWithSilent = 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const context = currentContext();
      return context ? { correlation_id: context.correlationId } : {};
    },
    redact: { paths: ['req.headers.authorization', 'password', '*.password', 'token', '*.token'], censor: '[redacted]' },
  });
}
