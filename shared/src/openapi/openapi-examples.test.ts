import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { OPENAI_EXAMPLES } from './openai-examples.js';
import { applyExamples, curlBody, examplePointer, lenientJson } from './reference-examples.js';
import type { SpecDocument } from './spec-comparison.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const committed = JSON.parse(readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8')) as SpecDocument;

/** Every example of the document, with the pointer of the schema it must match. */
function examplesOf(doc: SpecDocument): { where: string; pointer: string; value: unknown }[] {
  const out: { where: string; pointer: string; value: unknown }[] = [];
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item) as any[]) {
      for (const kind of ['request', 'response'] as const) {
        const pointer = examplePointer(doc, op.operationId, kind);
        const media = kind === 'request' ? Object.values(op.requestBody?.content ?? {})[0] : Object.entries(op.responses ?? {}).find(([s]) => /^2/.test(s))?.[1];
        const examples = ((kind === 'request' ? media : (media as any)?.content?.['application/json']) as any)?.examples ?? {};
        for (const [name, e] of Object.entries(examples) as [string, any][]) out.push({ where: `${op.operationId} ${kind} ${name}`, pointer: pointer ?? 'none', value: e.value });
      }
    }
  }
  return out;
}

function validator(doc: SpecDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: false, logger: false });
  addFormats(ajv);
  ajv.addFormat('binary', true);
  ajv.addSchema(structuredClone(doc), 'ours');
  return (pointer: string, value: unknown) => ajv.compile({ $ref: `ours${pointer}` })(value);
}

describe("OpenAI's examples in the API description", () => {
  it('validates every example of docs/openapi.json against the schema of its operation', () => {
    const all = examplesOf(committed);
    const valid = validator(committed);
    expect(all.filter((e) => e.pointer === 'none' || !valid(e.pointer, e.value)).map((e) => e.where)).toEqual([]);
    console.log(`docs/openapi.json carries ${all.length} examples from OpenAI's spec, each valid against our schemas`);
    expect(all.length).toBeGreaterThanOrEqual(40);
    expect(all.map((e) => e.where)).toEqual(expect.arrayContaining(['createChatCompletion request default', 'createResponse request text_input', 'createFile request default']));
  });

  it('puts the generated examples on their operations, and an invalid one would be caught', () => {
    const bare = applyExamples(structuredClone(committed), {});
    expect(examplesOf(bare)).toEqual([]);
    const again = applyExamples(structuredClone(bare), OPENAI_EXAMPLES);
    expect(JSON.stringify(again)).toBe(JSON.stringify(committed));
    const broken = applyExamples(structuredClone(bare), { createConversation: { request: [{ name: 'bad', summary: 'Bad', value: { metadata: 'not an object' } }] } });
    const [bad] = examplesOf(broken);
    expect(validator(broken)(bad!.pointer, bad!.value)).toBe(false);
  });

  it("reads the curl examples' JSON bodies and form fields, and forgives trailing commas only", () => {
    expect(curlBody(`curl https://x/v1/embeddings \\\n  -d '{\n "input": "a",\n "model": "m"\n }'\n`)).toEqual({ input: 'a', model: 'm' });
    expect(curlBody('curl https://x/v1/files \\\n  -F purpose="fine-tune" \\\n  -F file="@my.jsonl"\n  -F expires_after[anchor]="created_at"\n  -F expires_after[seconds]=3600\n')).toEqual({
      purpose: 'fine-tune',
      file: 'my.jsonl',
      expires_after: { anchor: 'created_at', seconds: 3600 },
    });
    expect(curlBody('curl https://x/v1/models')).toBeUndefined();
    expect(lenientJson('{"a": [1, 2,],}')).toEqual({ a: [1, 2] });
    expect(lenientJson('{ id: "vs_abc123" }')).toBeUndefined();
  });
});
