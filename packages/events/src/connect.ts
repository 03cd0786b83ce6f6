import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@gpuaas/telemetry';

export interface ConnectNatsOptions {
  logger?: Logger;
  reconnectTimeWaitMs?: number;
}

/** Connects with reconnect forever (a NATS restart must never take a service down) and logs connection changes. */
export async function connectNats(url: string, name: string, options: ConnectNatsOptions = {}): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(',').map((server) => server.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 1000,
  });
  const { logger } = options;
  if (logger) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'error' || status.type === 'staleConnection') logger.warn({ nats_status: status }, 'nats connection problem');
        else if (status.type === 'reconnect') logger.info({ nats_status: status }, 'nats reconnected');
        else if (status.type !== 'ping' && status.type !== 'reconnecting') logger.debug({ nats_status: status }, 'nats status');
      }
    })();
    logger.info({ server: nc.getServer(), name }, 'connected to nats');
  }
  return nc;
}
