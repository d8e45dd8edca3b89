import { InvalidRequestError } from '@rgw/shared';

/** What a file's bytes are, for the model: text it can read, an image, a PDF, or neither. */
export type FileKind = { kind: 'text'; mime: string } | { kind: 'image'; mime: string } | { kind: 'pdf' } | { kind: 'other'; mime: string | null };

const TEXT_EXTENSIONS = new Set(
  'txt md markdown csv tsv json jsonl xml html htm yaml yml toml ini cfg conf log rst tex py js mjs cjs ts tsx jsx java kt c h cc cpp hpp cs go rs rb php pl sh bash zsh sql css scss swift scala r m lua vue svelte'.split(' '),
);
const IMAGE_MAGIC: [string, number[]][] = [
  ['image/png', [0x89, 0x50, 0x4e, 0x47]],
  ['image/jpeg', [0xff, 0xd8, 0xff]],
  ['image/gif', [0x47, 0x49, 0x46, 0x38]],
];

/**
 * Classifies by content first (magic bytes), then by the declared type or the file name's
 * extension; text must also decode as UTF-8.
 */
export function classifyFile(bytes: Buffer, filename: string, declaredType: string | null = null): FileKind {
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return { kind: 'pdf' };
  for (const [mime, magic] of IMAGE_MAGIC) if (magic.every((b, i) => bytes[i] === b)) return { kind: 'image', mime };
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return { kind: 'image', mime: 'image/webp' };
  const declared = declaredType?.split(';')[0]!.trim().toLowerCase() || null;
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase();
  const textual = (declared && (declared.startsWith('text/') || /^application\/(json|xml|x-yaml|yaml|csv|x-ndjson)$/.test(declared))) || (ext !== undefined && TEXT_EXTENSIONS.has(ext));
  if (textual && isUtf8(bytes)) return { kind: 'text', mime: 'text/plain' };
  return { kind: 'other', mime: declared };
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return !bytes.includes(0);
  } catch {
    return false;
  }
}

/** Text the model reads for a file part; a clear 400 naming `param` for what it cannot read. */
export function fileText(bytes: Buffer, filename: string, declaredType: string | null, param: string): string {
  const kind = classifyFile(bytes, filename, declaredType);
  if (kind.kind === 'text') return bytes.toString('utf8');
  if (kind.kind === 'pdf') {
    // Reached only when the resolver has no PDF extractor configured.
    throw new InvalidRequestError(`The file '${filename}' is a PDF; PDF input is not supported yet.`, param, 'unsupported_file');
  }
  const what = kind.kind === 'image' ? 'an image (send it as input_image)' : `of a type the model cannot read${kind.mime ? ` (${kind.mime})` : ''}`;
  throw new InvalidRequestError(`The file '${filename}' is ${what}. input_file takes text files and PDFs.`, param, 'unsupported_file');
}

/** A data URL of an image for an input_image part; a 400 naming `param` for anything else. */
export function imageDataUrl(bytes: Buffer, filename: string, declaredType: string | null, param: string): string {
  const kind = classifyFile(bytes, filename, declaredType);
  if (kind.kind !== 'image') throw new InvalidRequestError(`The file '${filename}' is not a PNG, JPEG, GIF or WebP image.`, param, 'unsupported_file');
  return `data:${kind.mime};base64,${bytes.toString('base64')}`;
}
