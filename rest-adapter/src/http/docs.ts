import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Express, Response } from 'express';
import type { Contract } from '../contract/load-contract.js';

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

// Only these files: the package also ships a demo index.html and initializer that point at a public sample API.
const assets = ['swagger-ui.css', 'index.css', 'swagger-ui-bundle.js', 'swagger-ui-bundle.js.map', 'favicon-32x32.png', 'favicon-16x16.png'];

// The explorer may load and call only this server; nothing comes from elsewhere.
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>GPUaaS REST API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
    <link rel="stylesheet" href="/docs/assets/index.css">
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

// validatorUrl: null keeps Swagger UI from sending the document to its public validator service.
const initScript = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

/** `/docs` (Swagger UI from the swagger-ui-dist package), `/openapi.yaml` and `/openapi.json` (the bundled contract). */
export function mountDocs(app: Express, contract: Contract): void {
  const json = JSON.stringify(contract.document);
  const locked = (res: Response) => res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);

  app.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(contract.source);
  });
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(json);
  });
  app.get(['/docs', '/docs/'], (_req, res) => {
    locked(res);
    res.type('html').send(page);
  });
  app.get('/docs/init.js', (_req, res) => {
    locked(res);
    res.type('application/javascript').send(initScript);
  });
  for (const asset of assets) {
    app.get(`/docs/assets/${asset}`, (_req, res, next) => {
      locked(res);
      res.sendFile(join(swaggerUiDir, asset), { maxAge: '1d' }, (error) => error && next(error));
    });
  }
}
