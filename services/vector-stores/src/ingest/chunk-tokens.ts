import { IntList } from './int-list.js';
import { o200k } from './o200k-encoder.js';

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

/** Text is tokenized in pieces of about this many characters, cut where the tokenizer would cut anyway. */
const TOKENIZE_CHARS = 16 * 1024;
/** Past this much text without a safe cut (one long "word"), it is cut anyway. */
const FORCE_CUT_CHARS = 256 * 1024;

/** The text of tokens[from, to), with U+FFFD for the bytes of a character cut at either edge. */
function decodeRange(tokens: Int32Array, from: number, to: number): string {
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
  const { encode, charLength, midCharacter } = o200k();
  let pending = '';
  const tokens = new IntList();
  // Where each token starts in `kept` (in UTF-16 units): a window that starts and ends on character
  // boundaries is a slice of the text, never decoded from its tokens.
  const offsets = new IntList();
  let kept = ''; // the text from token 0 on
  let start = 0; // first token of the next window
  let covered = 0; // tokens before this index are in some chunk already
  let index = 0;

  // Tokens that begin inside a UTF-8 character: a chunk must neither start nor end right before one,
  // or its text would hold half a character.
  const isBoundary = (i: number): boolean => i >= tokens.length || midCharacter[tokens.items[i]!] === 0;
  const offsetOf = (i: number): number => (i < offsets.length ? offsets.items[i]! : kept.length);

  function* emitWindows(final: boolean): Generator<TextChunk> {
    while (tokens.length - start >= maxTokens || (final && tokens.length > covered)) {
      let end = Math.min(start + maxTokens, tokens.length);
      while (end > start + 1 && !isBoundary(end)) end--;
      // Only a window narrower than one character (a few tokens at most) has an edge inside one.
      const text = isBoundary(start) && isBoundary(end) ? kept.slice(offsetOf(start), offsetOf(end)) : decodeRange(tokens.items, start, end);
      if (text.trim()) yield { index: index++, text, tokens: end - start };
      covered = end;
      if (end >= tokens.length && final) break;
      let next = Math.max(end - overlapTokens, start + 1);
      while (next < end && !isBoundary(next)) next++;
      start = next;
    }
    // Drop tokens and text no window will read again, so memory does not grow with the input.
    if (start > 8192) {
      const from = offsetOf(start);
      kept = kept.slice(from);
      tokens.dropFirst(start);
      offsets.dropFirst(start);
      for (let i = 0; i < offsets.length; i++) offsets.items[i]! -= from;
      covered -= start;
      start = 0;
    }
  }

  const tokenize = (piece: string): void => {
    // A lone surrogate is tokenized as U+FFFD (its UTF-8 encoding) and decoded as such: replaced
    // first, the text and its tokens agree unit for unit.
    const wf = piece as unknown as WellFormed;
    const text = wf.isWellFormed() ? piece : wf.toWellFormed();
    const first = tokens.length;
    encode(text, tokens);
    // Every token's share of the text: the characters it completes. The piece is whole characters,
    // so the shares add up to its length, and token i starts at offsets[i] whenever it starts a character.
    let at = kept.length;
    for (let i = first; i < tokens.length; i++) {
      offsets.push(at);
      at += charLength[tokens.items[i]!]!;
    }
    kept += text;
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

/** String methods of ES2024 (Node 20 has them; the project's TypeScript lib is ES2023). */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}
