import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { IntList } from './int-list.js';
import { o200k } from './o200k-encoder.js';

const SAMPLES = [
  'The quick brown fox jumps over the lazy dog. The quick brown fox!',
  "naïve café über 世界 数据库 😀 🧑‍🚀 𠀀𠀁 Ω don't I'LL x=1; https://x.y/z?q=1 \r\n\t  e\u0301 ﷺ １２３ 1234567",
  '<|endoftext|> is text here, as is <|im_start|>.',
  'supercalifragilisticexpialidocious '.repeat(50) + 'a'.repeat(40),
  '   \n\n  leading and trailing   ',
];

describe('o200k encoder', () => {
  it('gives the tokens gpt-tokenizer gives, with or without the pre-tokens remembered', () => {
    const { encode: fast } = o200k();
    for (let pass = 0; pass < 2; pass++) {
      for (const text of SAMPLES) {
        const out = new IntList(4);
        fast(text, out);
        expect(Array.from(out.items.subarray(0, out.length))).toEqual(encode(text, { disallowedSpecial: new Set() }));
      }
    }
  });

  it('gives each token its share of the text: the shares of whole characters add up to the length', () => {
    const { encode: fast, charLength } = o200k();
    for (const text of SAMPLES) {
      const out = new IntList();
      fast(text, out);
      let units = 0;
      for (let i = 0; i < out.length; i++) units += charLength[out.items[i]!]!;
      expect(units).toBe(text.length);
    }
  });
});
