import { createRequire } from 'node:module';

type Bpe = (string | number[])[];
type Encode = (text: string, options: { disallowedSpecial: Set<string> }) => Iterable<number>;

// o200k_base's tables take about a second and 70 MB to load: every process that mounts the vector
// stores (the embedded gateway included) would pay it at start, though only chunking needs them.
// Loaded synchronously (the package's CommonJS build) on the first use.
const requireCjs = createRequire(import.meta.url);
let tables: { bpe: Bpe; encode: Encode } | undefined;
function o200k(): { bpe: Bpe; encode: Encode } {
  return (tables ??= {
    bpe: (requireCjs('gpt-tokenizer/bpeRanks/o200k_base') as { default: Bpe }).default,
    encode: (requireCjs('gpt-tokenizer/encoding/o200k_base') as { encode: Encode }).encode,
  });
}

/** One chunk of a file's text: its position, its text and its length in o200k_base tokens. */
export interface TextChunk {
  index: number;
  text: string;
  tokens: number;
}

export interface ChunkOptions {
  maxTokens: number;
  overlapTokens: number;
}

// Text from a file may contain `<|endoftext|>` and the like: it is text, never a special token.
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Text is tokenized in pieces of about this many characters, cut where the tokenizer would cut anyway. */
const TOKENIZE_CHARS = 16 * 1024;
/** Past this much text without a safe cut (one long "word"), it is cut anyway. */
const FORCE_CUT_CHARS = 256 * 1024;

// Tokens that begin inside a UTF-8 character (with a continuation byte): a chunk must neither start
// nor end right before one, or its text would hold half a character.
let midCharTokens: Set<number> | null = null;
function startsMidCharacter(token: number): boolean {
  if (!midCharTokens) {
    midCharTokens = new Set();
    const { bpe } = o200k();
    for (let id = 0; id < bpe.length; id++) {
      const entry = bpe[id]!;
      if (typeof entry !== 'string' && (entry[0]! & 0xc0) === 0x80) midCharTokens.add(id);
    }
  }
  return midCharTokens.has(token);
}

/** The text of tokens[from, to), which starts and ends on character boundaries. */
function decodeRange(tokens: number[], from: number, to: number): string {
  const { bpe } = o200k();
  let out = '';
  let bytes: number[] = [];
  for (let i = from; i < to; i++) {
    const entry = bpe[tokens[i]!]!;
    if (typeof entry === 'string') {
      if (bytes.length) {
        out += Buffer.from(bytes).toString('utf8');
        bytes = [];
      }
      out += entry;
    } else {
      for (const b of entry) bytes.push(b);
    }
  }
  if (bytes.length) out += Buffer.from(bytes).toString('utf8');
  return out;
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const WHITESPACE = /\s/;

/**
 * Where `text[0, cut)` can be tokenized apart from the rest with the same tokens as the whole: right
 * before a space or after a newline that sits between a non-space and a letter or digit, a place where
 * o200k_base's pre-tokenizer always starts a new piece. -1 when there is none.
 */
export function safeCut(text: string, from: number): number {
  for (let i = text.length - 2; i > from; i--) {
    const c = text[i];
    if (c === ' ') {
      if (!WHITESPACE.test(text[i - 1]!) && LETTER_OR_DIGIT.test(text[i + 1]!)) return i;
    } else if (c !== undefined && LETTER_OR_DIGIT.test(c) && text[i - 1] === '\n') {
      return i;
    }
  }
  return -1;
}

/**
 * Cuts a stream of text into overlapping windows of at most `maxTokens` o200k_base tokens, each
 * starting `maxTokens - overlapTokens` tokens after the previous one (a little more or less where a
 * window edge would split a character). Memory stays bounded by the window and one piece of
 * text, whatever the input's size: text is tokenized piece by piece at cuts that do not change the
 * tokens, and consumed tokens are dropped.
 */
export async function* chunkText(segments: AsyncIterable<string> | Iterable<string>, opts: ChunkOptions): AsyncGenerator<TextChunk> {
  const { maxTokens, overlapTokens } = opts;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError('maxTokens must be a positive integer');
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens * 2 > maxTokens) {
    throw new RangeError('overlapTokens must be an integer between 0 and half of maxTokens');
  }
  let pending = '';
  let tokens: number[] = [];
  let start = 0; // first token of the next window
  let covered = 0; // tokens before this index are in some chunk already
  let index = 0;

  const isBoundary = (i: number): boolean => i >= tokens.length || !startsMidCharacter(tokens[i]!);

  function* emitWindows(final: boolean): Generator<TextChunk> {
    while (tokens.length - start >= maxTokens || (final && tokens.length > covered)) {
      let end = Math.min(start + maxTokens, tokens.length);
      while (end > start + 1 && !isBoundary(end)) end--;
      const text = decodeRange(tokens, start, end);
      if (text.trim()) yield { index: index++, text, tokens: end - start };
      covered = end;
      if (end >= tokens.length && final) break;
      let next = Math.max(end - overlapTokens, start + 1);
      while (next < end && !isBoundary(next)) next++;
      start = next;
    }
    // Drop tokens no window will read again, so memory does not grow with the input.
    if (start > 8192) {
      tokens = tokens.slice(start);
      covered -= start;
      start = 0;
    }
  }

  const tokenize = (text: string): void => {
    for (const t of o200k().encode(text, AS_PLAIN_TEXT)) tokens.push(t);
  };

  for await (const segment of segments) {
    pending += segment;
    while (pending.length >= TOKENIZE_CHARS) {
      let cut = safeCut(pending, TOKENIZE_CHARS / 4);
      if (cut < 0) {
        if (pending.length < FORCE_CUT_CHARS) break;
        cut = pending.length;
        const last = pending.charCodeAt(cut - 1);
        if (last >= 0xd800 && last <= 0xdbff) cut--;
      }
      tokenize(pending.slice(0, cut));
      pending = pending.slice(cut);
      yield* emitWindows(false);
    }
  }
  if (pending) tokenize(pending);
  pending = '';
  yield* emitWindows(true);
}
