import type { NatsConnection } from '@gpuaas/events';
import { decodeFrame, encodeFrame, FrameKind } from '@gpuaas/subgraph-compute/terminal';

type Frame = NonNullable<ReturnType<typeof decodeFrame>>;

/**
 * One side of a session's NATS link: frames out on `outbound`, frames in from `inbound`. Subscribing is flushed
 * before `open` resolves, so a peer told "ready" afterwards never publishes into the void.
 */
export interface NatsLink {
  send(kind: FrameKind, payload: Uint8Array | string): void;
  close(): void;
}

export async function openNatsLink(nats: NatsConnection, inbound: string, outbound: string, onFrame: (frame: Frame) => void): Promise<NatsLink> {
  const subscription = nats.subscribe(inbound, {
    callback: (error, message) => {
      if (error) return;
      const frame = decodeFrame(message.data);
      if (frame) onFrame(frame);
    },
  });
  await nats.flush();
  let closed = false;
  return {
    send(kind, payload) {
      if (closed || nats.isClosed()) return;
      nats.publish(outbound, encodeFrame(kind, payload));
    },
    close() {
      if (closed) return;
      closed = true;
      subscription.unsubscribe();
    },
  };
}

export { FrameKind };
export type { Frame };
