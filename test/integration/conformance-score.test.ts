import { describe, expect, it } from 'vitest';
import { SPEC_GAPS, compareSpecs, percent, scoreChecks, type SpecCheck } from '@rgw/shared';
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

  it('fails a check that is not met (the comparison can tell)', () => {
    const broken = structuredClone(OURS) as typeof OURS;
    delete (broken.paths['/v1/conversations']!.post as any).requestBody.content['application/json'].schema.properties.metadata;
    const failed = compareSpecs(broken, OPENAI, { prefix: '/v1' }).filter((c) => !c.ok).map((c) => c.id);
    expect(failed).toContain("createConversation: body property 'metadata'");
  });
});
