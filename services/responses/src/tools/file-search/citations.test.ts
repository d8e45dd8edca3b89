import { describe, expect, it } from 'vitest';
import { CitationSources, CitationTransformer, overlapCitations, type FileCitation } from './citations.js';

function sources(): { s: CitationSources; m0: string; m1: string } {
  const s = new CitationSources();
  const call = s.nextCall();
  const m0 = s.register(call, 0, { file_id: 'file-a', filename: 'a.txt', text: 'The warranty lasts for three years from the date of purchase.' });
  const m1 = s.register(call, 1, { file_id: 'file-b', filename: 'b.md', text: 'Returns are accepted within thirty days.' });
  return { s, m0, m1 };
}

/** Streams `deltas` through a transformer; returns the final text and every citation. */
function run(t: CitationTransformer, deltas: string[]): { text: string; annotations: FileCitation[]; pieces: string[] } {
  let text = '';
  const annotations: FileCitation[] = [];
  const pieces: string[] = [];
  for (const d of deltas) {
    const out = t.push(d);
    pieces.push(out.text);
    text += out.text;
    annotations.push(...out.annotations);
  }
  const last = t.end();
  pieces.push(last.text);
  text += last.text;
  annotations.push(...last.annotations);
  return { text, annotations, pieces };
}

/** Every way of cutting `text` into two or three pieces. */
function splits(text: string): string[][] {
  const out: string[][] = [];
  const chars = [...text];
  for (let i = 1; i < chars.length; i++) {
    out.push([chars.slice(0, i).join(''), chars.slice(i).join('')]);
    for (let j = i + 1; j < chars.length; j += 3) out.push([chars.slice(0, i).join(''), chars.slice(i, j).join(''), chars.slice(j).join('')]);
  }
  return out;
}

describe('CitationSources', () => {
  it('labels chunks with markers naming call, chunk and file', () => {
    const { m0, m1 } = sources();
    expect(m0).toBe('【0:0†a.txt】');
    expect(m1).toBe('【0:1†b.md】');
  });
});

describe('CitationTransformer', () => {
  it('removes a marker and cites its file at the marker position', () => {
    const { s, m0 } = sources();
    const { text, annotations } = run(new CitationTransformer(s), [`Three years${m0}.`]);
    expect(text).toBe('Three years.');
    expect(annotations).toEqual([{ type: 'file_citation', file_id: 'file-a', filename: 'a.txt', index: 11 }]);
  });

  it('handles a marker split at every position across deltas', () => {
    const { s, m0, m1 } = sources();
    const answer = `Warranty: three years${m0}; returns: thirty days${m1}.`;
    for (const deltas of splits(answer)) {
      const { text, annotations } = run(new CitationTransformer(s, { minOverlapWords: 50 }), deltas);
      expect(text, JSON.stringify(deltas)).toBe('Warranty: three years; returns: thirty days.');
      expect(annotations.map((a) => [a.file_id, a.index])).toEqual([
        ['file-a', 21],
        ['file-b', 43],
      ]);
    }
  });

  it('holds back only from the opening bracket on', () => {
    const { s } = sources();
    const t = new CitationTransformer(s);
    expect(t.push('Hello 【0:').text).toBe('Hello ');
    expect(t.push('0†a.txt】 world').text).toBe(' world');
  });

  it('never holds back text without a bracket', () => {
    const { s } = sources();
    const t = new CitationTransformer(s);
    expect(t.push('plain [text] (here)').text).toBe('plain [text] (here)');
  });

  it('drops a marker that names no retrieved chunk, without citing', () => {
    const { s } = sources();
    const { text, annotations } = run(new CitationTransformer(s, { minOverlapWords: 50 }), ['A【3:9†secret.pdf】B【0:7】C']);
    expect(text).toBe('ABC');
    expect(annotations).toEqual([]);
  });

  it('accepts the short form without a file name', () => {
    const { s } = sources();
    expect(run(new CitationTransformer(s), ['x【0:1】']).annotations).toEqual([{ type: 'file_citation', file_id: 'file-b', filename: 'b.md', index: 1 }]);
  });

  it('keeps brackets that are not markers', () => {
    const { s } = sources();
    expect(run(new CitationTransformer(s), ['see 【note】 and 【', '1】 and 【 unclosed']).text).toBe('see 【note】 and 【1】 and 【 unclosed');
  });

  it('releases an over-long unclosed bracket as text', () => {
    const { s } = sources();
    const t = new CitationTransformer(s);
    const long = 'x'.repeat(400);
    const out = t.push(`【${long}`);
    expect(out.text).toBe(`【${long}`);
  });

  it('counts positions in code points', () => {
    const { s, m0 } = sources();
    const { text, annotations } = run(new CitationTransformer(s), [`😀 é${m0}`]);
    expect(text).toBe('😀 é');
    expect(annotations[0]!.index).toBe(3);
    expect(annotations[0]!.index).toBeLessThanOrEqual([...text].length);
  });

  it('cites repeated markers each time', () => {
    const { s, m0 } = sources();
    const { annotations } = run(new CitationTransformer(s), [`a${m0}b${m0}`]);
    expect(annotations.map((a) => a.index)).toEqual([1, 2]);
  });

  it('end() is idempotent', () => {
    const { s } = sources();
    const t = new CitationTransformer(s);
    t.push('abc【0:');
    expect(t.end().text).toBe('【0:');
    expect(t.end()).toEqual({ text: '', annotations: [] });
  });
});

describe('overlap fallback', () => {
  it('cites an uncited passage copied from a chunk, at its end', () => {
    const { s } = sources();
    const { text, annotations } = run(new CitationTransformer(s), ['Good news: the warranty lasts for three years from the date of purchase. Enjoy!']);
    expect(annotations).toHaveLength(1);
    expect(annotations[0]).toMatchObject({ file_id: 'file-a', filename: 'a.txt' });
    expect(text.slice(0, annotations[0]!.index)).toBe('Good news: the warranty lasts for three years from the date of purchase');
  });

  it('does not add a citation when a marker of that file already covers the sentence', () => {
    const { s, m0 } = sources();
    const { annotations } = run(new CitationTransformer(s), [`The warranty lasts for three years from the date of purchase.${m0}`]);
    expect(annotations).toHaveLength(1);
  });

  it('still cites when the existing citation is of another file', () => {
    const { s, m1 } = sources();
    const { annotations } = run(new CitationTransformer(s), [`The warranty lasts for three years from the date of purchase${m1}.`]);
    expect(annotations.map((a) => a.file_id).sort()).toEqual(['file-a', 'file-b']);
  });

  it('ignores short overlaps and text from nowhere', () => {
    const { s } = sources();
    expect(run(new CitationTransformer(s), ['The warranty lasts a while. Unrelated words entirely here and there.']).annotations).toEqual([]);
  });

  it('matches case- and punctuation-insensitively, and respects minWords', () => {
    const src = [{ file_id: 'f', filename: 'f.txt', text: 'alpha beta gamma delta' }];
    expect(overlapCitations('ALPHA, beta; Gamma delta!', src, [], 4)).toEqual([{ type: 'file_citation', file_id: 'f', filename: 'f.txt', index: 24 }]);
    expect(overlapCitations('alpha beta gamma', src, [], 4)).toEqual([]);
  });

  it('cites two separate passages of the same chunk separately', () => {
    const src = [{ file_id: 'f', filename: 'f.txt', text: 'one two three four. five six seven eight.' }];
    const answer = 'one two three four. Something else. five six seven eight.';
    const out = overlapCitations(answer, src, [], 4);
    expect(out.map((c) => c.index)).toEqual([18, answer.length - 1]);
    for (const c of out) expect(c.index).toBeLessThanOrEqual(answer.length);
  });
});
