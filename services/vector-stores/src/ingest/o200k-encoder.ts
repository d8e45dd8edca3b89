import { createRequire } from 'node:module';
import type { IntList } from './int-list.js';

type Bpe = (string | number[])[];
/** The parts of gpt-tokenizer's o200k_base encoder that `encode` below runs (its CommonJS build, v4). */
interface BpeCore {
  tokenSplitRegex: RegExp;
  bytePairRankDecoder: Bpe;
  getBpeRankFromString(piece: string): number | undefined;
  bytePairEncode(piece: string): number[];
}

/** o200k_base token ids, with what the chunker needs to know of each. */
export interface O200k {
  /** Per token id: its text, or its bytes where they are not whole UTF-8 characters. */
  bpe: Bpe;
  /** Appends the tokens of `text` (plain text: special-token names are text) to `out`. */
  encode(text: string, out: IntList): void;
  /** Per token id: UTF-16 code units its bytes complete (a token ending mid-character counts its lead bytes). */
  charLength: Uint16Array;
  /** Per token id: 1 when it begins with a UTF-8 continuation byte (inside a character). */
  midCharacter: Uint8Array;
}

/** Pre-tokens remembered with their token ids; past this many the memory is cleared and refilled. */
const PIECE_CACHE_SIZE = 50_000;
/**
 * Only pre-tokens this short are remembered: V8 copies a substring shorter than 13 characters, while
 * a longer one points into the text it was cut from, which a remembered key would keep alive.
 */
const PIECE_CACHE_CHARS = 12;

// o200k_base's tables take about a second and 70 MB to load: every process that mounts the vector
// stores (the embedded gateway included) would pay it at start, though only chunking needs them.
// Loaded synchronously (the package's CommonJS build) on the first use.
const requireCjs = createRequire(import.meta.url);
let loaded: O200k | undefined;

export function o200k(): O200k {
  return (loaded ??= build(requireCjs('gpt-tokenizer/encoding/o200k_base').default.bytePairEncodingCoreProcessor as BpeCore));
}

function build(core: BpeCore): O200k {
  const bpe = core.bytePairRankDecoder;
  const charLength = new Uint16Array(bpe.length);
  const midCharacter = new Uint8Array(bpe.length);
  for (let id = 0; id < bpe.length; id++) {
    const entry = bpe[id];
    if (typeof entry === 'string') charLength[id] = entry.length;
    else if (entry) {
      let units = 0;
      for (const b of entry) if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
      charLength[id] = units;
      if ((entry[0]! & 0xc0) === 0x80) midCharacter[id] = 1;
    }
  }
  // The library's own pre-tokenizer regex, a copy with its own lastIndex.
  const split = new RegExp(core.tokenSplitRegex.source, core.tokenSplitRegex.flags.includes('g') ? core.tokenSplitRegex.flags : `${core.tokenSplitRegex.flags}g`);
  // Text repeats its words: a pre-token seen before costs one lookup instead of the library's two
  // (its rank table, then its least-recently-used merge cache, reordered on every hit).
  let pieces = new Map<string, number | number[]>();
  const encode = (text: string, out: IntList): void => {
    split.lastIndex = 0;
    for (let m = split.exec(text); m !== null; m = split.exec(text)) {
      const piece = m[0];
      if (piece === '') {
        split.lastIndex++; // the pattern matches no empty piece; never loop on one all the same
        continue;
      }
      const short = piece.length <= PIECE_CACHE_CHARS;
      let ids = short ? pieces.get(piece) : undefined;
      if (ids === undefined) {
        // What the library's encoder does with each pre-token (special tokens are never allowed here).
        ids = core.getBpeRankFromString(piece) ?? core.bytePairEncode(piece);
        if (short) {
          if (pieces.size >= PIECE_CACHE_SIZE) pieces = new Map();
          pieces.set(piece, ids);
        }
      }
      if (typeof ids === 'number') out.push(ids);
      else for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
    }
  };
  return { bpe, encode, charLength, midCharacter };
}
