/**
 * `npm run openapi`: writes docs/openapi.json, the committed copy of the API description the gateway
 * serves at /openapi.json (a unit test fails while it is stale). `--check` only compares.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiDocumentText } from '../gateway/src/routes/api-description.js';

const target = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));
const text = apiDocumentText();
if (process.argv.includes('--check')) {
  const current = (() => {
    try {
      return readFileSync(target, 'utf8');
    } catch {
      return '';
    }
  })();
  if (current !== text) {
    console.error('docs/openapi.json is stale: run `npm run openapi`');
    process.exit(1);
  }
  console.log('docs/openapi.json is current');
} else {
  writeFileSync(target, text);
  console.log(`wrote docs/openapi.json (${Object.keys(JSON.parse(text).paths).length} paths)`);
}
