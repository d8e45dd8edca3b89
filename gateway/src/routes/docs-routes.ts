import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { Router } from 'express';

/**
 * GET /docs: the interactive API reference, Swagger UI rendering /openapi.json. Served from the
 * `swagger-ui-dist` package's static files: no CDN (the machines and many clusters are offline), no
 * dependencies of its own, and "Try it out" calls this very server. (Scalar and Redoc were passed
 * over: their current releases need Node 22 and pull in large trees.)
 */
export function docsRoutes(): Router {
  const assets = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const router = Router();
  router.get('/docs', (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(INIT);
  });
  // The bundle's own files (scripts, styles, icons), cacheable: a release changes their content.
  router.use('/docs', express.static(assets, { index: false, maxAge: '1h', fallthrough: true }));
  return router;
}

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Responses Gateway API</title>
    <link rel="stylesheet" type="text/css" href="/docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="/docs/init.js" charset="UTF-8"></script>
  </body>
</html>
`;

// validatorUrl null: the UI would otherwise send the document to swagger.io to be checked.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  displayOperationId: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;
