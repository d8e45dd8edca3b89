import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { renderPrompt, templateVariables } from './prompt-template.js';
import { errorOf } from '../../../test/support/errors.js';

describe('templateVariables', () => {
  it('finds distinct placeholders in order, with or without inner spaces', () => {
    expect(templateVariables('{{a}} and {{ b }} and {{a}} and {{  c_1  }}')).toEqual(['a', 'b', 'c_1']);
    expect(templateVariables('no {{ 1x }} {single} {{with-dash}} placeholders')).toEqual([]);
  });
});

describe('renderPrompt', () => {
  it('substitutes strings and input_text values', () => {
    const out = renderPrompt('Hello {{name}}, you live in {{ city }}. Bye {{name}}.', ['name', 'city'], { name: 'Ada', city: { type: 'input_text', text: 'London' } });
    expect(out).toEqual({ text: 'Hello Ada, you live in London. Bye Ada.', parts: [] });
  });

  it('does not expand placeholders inside values', () => {
    expect(renderPrompt('{{a}} {{b}}', ['a', 'b'], { a: '{{b}}', b: 'x' }).text).toBe('{{b}} x');
  });

  it('returns image and file values as parts, in declared order, with a marker in the text', () => {
    const image = { type: 'input_image', image_url: 'https://x/cat.png', detail: 'low' };
    const file = { type: 'input_file', file_id: 'file-1' };
    const out = renderPrompt('Look at {{photo}} and read {{doc}}.', ['doc', 'photo'], { photo: image, doc: file });
    expect(out.text).toBe('Look at [photo] and read [doc].');
    expect(out.parts).toEqual([file, image]);
  });

  it('passes a declared variable that the text does not use as a part only', () => {
    const image = { type: 'input_image', file_id: 'file-2' };
    expect(renderPrompt('Describe the image.', ['img'], { img: image })).toEqual({ text: 'Describe the image.', parts: [image] });
  });

  it('reports a missing value as a 400 naming the variable', () => {
    const err = errorOf(() => renderPrompt('Hi {{name}}', ['name'], {}));
    expect(err.status).toBe(400);
    expect(err.param).toBe('prompt.variables.name');
    expect(err.code).toBe('missing_prompt_variable');
    expect(errorOf(() => renderPrompt('Hi {{name}}', ['name'], null)).param).toBe('prompt.variables.name');
  });

  it('reports an undeclared variable as a 400 naming it', () => {
    const err = errorOf(() => renderPrompt('Hi', ['name'], { other: 'x' }));
    expect(err.param).toBe('prompt.variables.other');
    expect(err.code).toBe('unknown_prompt_variable');
    expect(errorOf(() => renderPrompt('Hi {{ghost}}', [], {})).param).toBe('prompt.variables.ghost');
  });

  it('refuses values of an unknown shape, under a caller-chosen param root', () => {
    expect(errorOf(() => renderPrompt('{{n}}', ['n'], { n: 42 }, 'vars')).param).toBe('vars.n');
    expect(errorOf(() => renderPrompt('{{n}}', ['n'], { n: { type: 'input_audio' } })).code).toBe('invalid_type');
  });
});
