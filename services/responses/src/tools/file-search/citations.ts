/**
 * Citations for file_search answers. Each chunk shown to the model is labelled with a marker
 * `【{call}:{n}†{filename}】` (the form OpenAI's models are trained to copy); the model's text streams
 * through a CitationTransformer that cuts the markers out and turns them into `file_citation`
 * annotations at the character position where the marker stood. Positions count Unicode code
 * points of the final text (what Python's str indexes and what the spec calls a character).
 */

export interface CitationSource {
  file_id: string;
  filename: string;
  text: string;
}

/** FileCitationBody of the spec. */
export type FileCitation = {
  type: 'file_citation';
  file_id: string;
  filename: string;
  index: number;
};

export const MARKER_OPEN = '【';
export const MARKER_CLOSE = '】';
/** A would-be marker longer than this is ordinary text: the longest text ever held back. */
const MAX_MARKER_CHARS = 300;
const MARKER_BODY = /^(\d{1,4}):(\d{1,4})(?:†[^】]*)?$/;

/** The chunks retrieved during one response, by marker: only these can ever be cited. */
export class CitationSources {
  private readonly byKey = new Map<string, CitationSource>();
  private calls = 0;

  /** A number for the next search call (the first part of its markers). */
  nextCall(): number {
    return this.calls++;
  }

  /** Registers chunk `n` of search call `call` and returns the marker that labels it. */
  register(call: number, n: number, source: CitationSource): string {
    this.byKey.set(`${call}:${n}`, source);
    return `${MARKER_OPEN}${call}:${n}†${source.filename}${MARKER_CLOSE}`;
  }

  lookup(call: number, n: number): CitationSource | undefined {
    return this.byKey.get(`${call}:${n}`);
  }

  get size(): number {
    return this.byKey.size;
  }

  all(): CitationSource[] {
    return [...this.byKey.values()];
  }
}

export interface TransformedText {
  /** Text to append now (markers removed). */
  text: string;
  /** Citations found, their `index` in the final text. */
  annotations: FileCitation[];
}

export interface CitationOptions {
  /** Consecutive words an answer must share with a chunk for the overlap fallback to cite it (default 6). */
  minOverlapWords?: number;
}

/**
 * Removes markers from streamed text and reports them as citations. Only text that could still
 * be a marker (from a `【` on, at most MAX_MARKER_CHARS) is held back between deltas. A marker that
 * names no retrieved chunk is dropped without a citation.
 */
export class CitationTransformer {
  private pending = '';
  private final = '';
  private finalLength = 0;
  private readonly cited: FileCitation[] = [];
  private ended = false;

  constructor(
    private readonly sources: CitationSources,
    private readonly opts: CitationOptions = {},
  ) {}

  push(delta: string): TransformedText {
    this.pending += delta;
    return this.drain(false);
  }

  /** Releases what was held back and adds the overlap fallback's citations. */
  end(): TransformedText {
    if (this.ended) return { text: '', annotations: [] };
    this.ended = true;
    const out = this.drain(true);
    const fallback = overlapCitations(this.final, this.sources.all(), this.cited, this.opts.minOverlapWords ?? 6);
    this.cited.push(...fallback);
    out.annotations.push(...fallback);
    return out;
  }

  private drain(atEnd: boolean): TransformedText {
    let text = '';
    const annotations: FileCitation[] = [];
    const emit = (s: string) => {
      text += s;
      this.final += s;
      this.finalLength += codePoints(s);
    };
    for (;;) {
      const open = this.pending.indexOf(MARKER_OPEN);
      if (open < 0) {
        emit(this.pending);
        this.pending = '';
        break;
      }
      emit(this.pending.slice(0, open));
      this.pending = this.pending.slice(open);
      const close = this.pending.indexOf(MARKER_CLOSE);
      if (close < 0 || close > MAX_MARKER_CHARS) {
        if (!atEnd && this.pending.length <= MAX_MARKER_CHARS) break; // may still become a marker
        // Too long, or the text ended: the bracket was ordinary text.
        emit(MARKER_OPEN);
        this.pending = this.pending.slice(MARKER_OPEN.length);
        continue;
      }
      const body = this.pending.slice(MARKER_OPEN.length, close);
      const match = MARKER_BODY.exec(body);
      if (!match) {
        // A bracket pair that is not our marker stays as written.
        emit(this.pending.slice(0, close + MARKER_CLOSE.length));
      } else {
        const source = this.sources.lookup(Number(match[1]), Number(match[2]));
        if (source) {
          const citation: FileCitation = { type: 'file_citation', file_id: source.file_id, filename: source.filename, index: this.finalLength };
          this.cited.push(citation);
          annotations.push(citation);
        }
      }
      this.pending = this.pending.slice(close + MARKER_CLOSE.length);
    }
    return { text, annotations };
  }
}

/**
 * The overlap fallback: a passage of the answer sharing at least `minWords` consecutive words with a
 * retrieved chunk is cited to the chunk's file (at the passage's end) unless a citation of that file
 * already stands between the passage's start and the end of its sentence.
 */
export function overlapCitations(answer: string, sources: readonly CitationSource[], existing: readonly FileCitation[], minWords: number): FileCitation[] {
  const words = wordsOf(answer);
  if (words.length < minWords || sources.length === 0) return [];
  const out: FileCitation[] = [];
  const covered = (fileId: string, start: number, end: number) => [...existing, ...out].some((c) => c.file_id === fileId && c.index >= start && c.index <= end);
  // The answer's word windows, built once: window i is words i..i+minWords-1.
  const windows: string[] = [];
  for (let i = 0; i + minWords <= words.length; i++) windows.push(words.slice(i, i + minWords).map((w) => w.word).join(' '));
  for (const source of sources) {
    const shingles = new Set<string>();
    const chunkWords = wordsOf(source.text).map((w) => w.word);
    for (let i = 0; i + minWords <= chunkWords.length; i++) shingles.add(chunkWords.slice(i, i + minWords).join(' '));
    if (shingles.size === 0) continue;
    let i = 0;
    while (i < windows.length) {
      if (!shingles.has(windows[i]!)) {
        i++;
        continue;
      }
      // Extend the passage as long as the following windows match too.
      let w = i;
      while (w + 1 < windows.length && shingles.has(windows[w + 1]!)) w++;
      const last = w + minWords - 1;
      const start = codePointIndex(answer, words[i]!.start);
      const end = codePointIndex(answer, words[last]!.end);
      const sentenceEnd = codePointIndex(answer, sentenceEndAfter(answer, words[last]!.end));
      if (!covered(source.file_id, start, sentenceEnd)) out.push({ type: 'file_citation', file_id: source.file_id, filename: source.filename, index: end });
      i = w + minWords;
    }
  }
  return out;
}

interface Word {
  word: string;
  start: number;
  end: number;
}

function wordsOf(text: string): Word[] {
  const out: Word[] = [];
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) out.push({ word: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length });
  return out;
}

/** The UTF-16 offset just past the sentence that contains `from` (its punctuation included). */
function sentenceEndAfter(text: string, from: number): number {
  const rest = text.slice(from);
  const m = /[.!?\n]/.exec(rest);
  return m ? from + m.index + 1 : text.length;
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function codePointIndex(s: string, utf16Index: number): number {
  return codePoints(s.slice(0, utf16Index));
}
