import { publishJwks, type SigningKey } from '@gpuaas/auth';
import { createHttpService, type HttpService } from '@gpuaas/service-kit';
import type { Logger } from '@gpuaas/telemetry';
import { JWKS_PATH } from '../../src/index.js';

/** Serves `key`'s public JWK at JWKS_PATH, as the access subgraph publishes its signing keys, on a free port. */
export function serveJwks(key: SigningKey, logger: Logger): Promise<HttpService> {
  return createHttpService({
    name: 'jwks',
    host: '127.0.0.1',
    port: 0,
    logger,
    configure: (app) => {
      app.get(JWKS_PATH, (_req, res) => void res.json(publishJwks([key.publicJwk])));
    },
  });
}
