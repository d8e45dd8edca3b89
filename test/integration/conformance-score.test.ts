import { describe, expect, it } from 'vitest';
import { EXTENSION_FIELDS, SPEC_GAPS, compareSpecs, fieldsNotInReference, percent, resolve, scoreChecks, type SpecCheck } from '@rgw/shared';
import { OGX, OPENAI, OURS } from '../support/conformance.js';

/**
 * Our description against OpenAI's (and, for prompts and introspection, Llama Stack's) on the paths
 * both have: each parameter, enum value, body property, required field and response property of
 * theirs that ours has. Printed as a score per API and in total (the README shows it); every check
 * we fail must be a gap SPEC_GAPS names with its reason, and every gap named there must still exist.
 */
describe('conformance score of the API description', () => {
  const checks: SpecCheck[] = [...compareSpecs(OURS, OPENAI, { prefix: '/v1' }), ...compareSpecs(OURS, OGX, { prefix: '' })];
  const { apis, total } = scoreChecks(checks);
  const named = (c: SpecCheck) => SPEC_GAPS.some((g) => g.match.test(c.id));

  it('prints the score per API and in total', () => {
    const lines = [...apis, total].map((s) => `${s.api.padEnd(14)} ${percent(s).padStart(5)} %  (${s.passed}/${s.total})`);
    const gaps = checks.filter((c) => !c.ok).length;
    console.log(`conformance with the reference specs:\n${lines.join('\n')}\n${gaps} checks failed, each a gap named in shared/src/openapi/openai-deviations.ts`);
    expect(apis.map((a) => a.api)).toEqual(expect.arrayContaining(['Models', 'Inference', 'Responses', 'Conversations', 'Files', 'Vector stores', 'Prompts', 'Inspect']));
    expect(total.total).toBeGreaterThan(600);
  });

  it('names every gap, with a reason', () => {
    expect(checks.filter((c) => !c.ok && !named(c)).map((c) => c.id)).toEqual([]);
  });

  it('names no gap that is closed', () => {
    const open = checks.filter((c) => !c.ok);
    expect(SPEC_GAPS.filter((g) => !open.some((c) => g.match.test(c.id))).map((g) => g.match.source)).toEqual([]);
  });

  it('marks exactly the request fields OpenAI does not have as extensions', () => {
    const listed = Object.entries(EXTENSION_FIELDS).flatMap(([operationId, fields]) => Object.keys(fields).map((field) => `${operationId} ${field}`));
    const missing = fieldsNotInReference(OURS, OPENAI, { prefix: '/v1' }).map((f) => `${f.operationId} ${f.field}`);
    // Each listed field is absent from OpenAI's schema, and every field absent from it is listed.
    expect(listed.sort()).toEqual(missing.sort());
    expect(listed.length).toBeGreaterThanOrEqual(4);
    for (const [path, item] of Object.entries(OURS.paths)) {
      for (const op of Object.values(item) as any[]) {
        const fields = EXTENSION_FIELDS[op.operationId];
        if (!fields) continue;
        const props = resolve(OURS, op.requestBody.content['application/json'].schema).properties;
        for (const [field, reason] of Object.entries(fields)) expect(props[field]['x-extension'], `${path} ${field}`).toBe(reason);
      }
    }
  });

  it('finds a field OpenAI does not have (the comparison can tell)', () => {
    const extended = structuredClone(OURS) as typeof OURS;
    (extended.paths['/v1/conversations']!.post as any).requestBody.content['application/json'].schema.properties.our_own = { type: 'string' };
    expect(fieldsNotInReference(extended, OPENAI, { prefix: '/v1' })).toContainEqual({ operationId: 'createConversation', field: 'our_own' });
  });

  it('fails a check that is not met (the comparison can tell)', () => {
    const broken = structuredClone(OURS) as typeof OURS;
    delete (broken.paths['/v1/conversations']!.post as any).requestBody.content['application/json'].schema.properties.metadata;
    const failed = compareSpecs(broken, OPENAI, { prefix: '/v1' }).filter((c) => !c.ok).map((c) => c.id);
    expect(failed).toContain("createConversation: body property 'metadata'");
  });
});
