import { badCharRatio, isUtf8Prefix } from './file-type.js';
import { InvalidFileError } from './ingest-errors.js';

/** Largest piece of bytes decoded (and so the largest text segment yielded) at once. */
export const SEGMENT_BYTES = 64 * 1024;

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** The text encoding a byte-order mark announces, or UTF-8. */
export function encodingOf(head: Buffer): 'utf-8' | 'utf-16le' | 'utf-16be' {
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}

/**
 * The encoding of a file known to be text: as `encodingOf`, except that a start which is not UTF-8
 * but reads cleanly as Windows-1252 (older Western files: `café` saved as Latin-1) is read as that,
 * rather than turning every accented letter into U+FFFD. Binary stays UTF-8, to fail as such.
 */
export function textEncodingOf(head: Buffer): TextEncoding {
  const bom = encodingOf(head);
  if (bom !== 'utf-8' || isUtf8Prefix(head) || head.includes(0)) return bom;
  return badCharRatio(new TextDecoder('windows-1252').decode(head)) < 0.01 ? 'windows-1252' : 'utf-8';
}

/**
 * Decodes a byte stream into text segments of at most SEGMENT_BYTES' worth, holding nothing else:
 * the decoder carries a character cut between two reads over to the next. Text that turns out to be
 * binary (many replacement or control characters) fails as `invalid_file` rather than be indexed.
 */
export async function* decodeText(bytes: AsyncIterable<Buffer>, encoding: TextEncoding, what = 'text'): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding); // strips the BOM; invalid bytes become U+FFFD
  let seen = 0;
  let bad = 0;
  const check = (text: string): string => {
    const ratio = badCharRatio(text);
    seen += text.length;
    bad += ratio * text.length;
    // A 64 KB piece that is a third binary, or a whole file past its first 4 KB that is a tenth binary.
    if ((text.length >= 1024 && ratio > 0.3) || (seen >= 4096 && bad / seen > 0.1)) {
      throw new InvalidFileError(`The ${what} file is not valid text: it holds binary data or is not encoded as UTF-8.`);
    }
    return text;
  };
  for await (const chunk of bytes) {
    for (let offset = 0; offset < chunk.length; offset += SEGMENT_BYTES) {
      const text = decoder.decode(chunk.subarray(offset, offset + SEGMENT_BYTES), { stream: true });
      if (text) yield check(text);
    }
  }
  const tail = decoder.decode();
  if (tail) yield check(tail);
  if (seen > 0 && seen < 4096 && bad / seen > 0.1) {
    throw new InvalidFileError(`The ${what} file is not valid text: it holds binary data or is not encoded as UTF-8.`);
  }
}

/** Splits decoded text into lines (without the newline), holding at most one line plus a segment. */
export async function* lines(text: AsyncIterable<string>, maxLineChars: number): AsyncGenerator<string> {
  let pending = '';
  for await (const segment of text) {
    pending += segment;
    let start = 0;
    for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n', start)) {
      yield pending.slice(start, nl);
      start = nl + 1;
    }
    pending = pending.slice(start);
    if (pending.length > maxLineChars) throw new InvalidFileError(`A line of the file is longer than ${maxLineChars} characters.`);
  }
  if (pending) yield pending;
}

/** A long string as segments of about SEGMENT_BYTES characters, never cutting a surrogate pair. */
export function* slices(text: string): Generator<string> {
  for (let start = 0; start < text.length; ) {
    let end = Math.min(text.length, start + SEGMENT_BYTES);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    yield text.slice(start, end);
    start = end;
  }
}
