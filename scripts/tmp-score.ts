import { readFileSync } from 'node:fs';
import { compareSpecs, scoreChecks, percent } from '../shared/src/openapi/index.js';
const ours = JSON.parse(readFileSync('docs/openapi.json', 'utf8'));
const theirs = JSON.parse(readFileSync('test/reference/openai-openapi.json', 'utf8'));
const checks = compareSpecs(ours, theirs, { prefix: '/v1' });
const s = scoreChecks(checks);
for (const a of [...s.apis, s.total]) console.log(a.api, percent(a), a.passed, a.total);
for (const c of checks.filter((c) => !c.ok)) console.log('  MISS', c.id);
