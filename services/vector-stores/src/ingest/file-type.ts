/** The extraction paths: each kind has its own extractor. */
export type FileKind = 'text' | 'json' | 'jsonl' | 'html' | 'pdf' | 'docx' | 'pptx';

// Plain text, Markdown and source code: all read as UTF-8 text, streamed.
const TEXT_EXTENSIONS = [
  'txt', 'text', 'log', 'md', 'markdown', 'mdx', 'rst', 'adoc', 'org', 'tex', 'bib', 'csv', 'tsv',
  'c', 'h', 'cc', 'cpp', 'cxx', 'hpp', 'hh', 'cs', 'css', 'scss', 'less', 'go', 'java', 'kt', 'kts',
  'scala', 'groovy', 'js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx', 'vue', 'svelte', 'php',
  'py', 'pyi', 'rb', 'rs', 'swift', 'm', 'mm', 'dart', 'lua', 'pl', 'pm', 'r', 'jl', 'ex', 'exs',
  'erl', 'hrl', 'hs', 'clj', 'fs', 'fsx', 'ml', 'mli', 'sh', 'bash', 'zsh', 'fish', 'ps1', 'bat',
  'sql', 'graphql', 'gql', 'proto', 'xml', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf', 'properties',
  'env', 'gradle', 'cmake', 'mk', 'dockerfile', 'tf', 'hcl', 'nix', 'zig', 'v', 'sv', 'vhd', 'asm', 's',
];

const BY_EXTENSION = new Map<string, FileKind>([
  ...TEXT_EXTENSIONS.map((ext) => [ext, 'text'] as const),
  ['json', 'json'],
  ['jsonl', 'jsonl'],
  ['ndjson', 'jsonl'],
  ['html', 'html'],
  ['htm', 'html'],
  ['xhtml', 'html'],
  ['pdf', 'pdf'],
  ['docx', 'docx'],
  ['pptx', 'pptx'],
]);

// Extensions we know and cannot read: answered at once, without sniffing a byte.
const KNOWN_UNSUPPORTED = new Set([
  'png', 'jpg', 'jpeg', 'gif', 'webp', 'bmp', 'tif', 'tiff', 'ico', 'svgz', 'heic', 'mp3', 'wav', 'ogg',
  'flac', 'm4a', 'mp4', 'mov', 'avi', 'mkv', 'webm', 'zip', 'gz', 'tgz', 'bz2', 'xz', '7z', 'rar', 'tar',
  'exe', 'dll', 'so', 'dylib', 'class', 'jar', 'wasm', 'doc', 'ppt', 'xls', 'xlsx', 'odt', 'odp', 'ods',
  'rtf', 'epub', 'sqlite', 'db', 'parquet', 'pkl', 'npy', 'pt', 'onnx', 'safetensors', 'woff', 'woff2', 'ttf', 'otf',
]);

const BY_CONTENT_TYPE = new Map<string, FileKind>([
  ['application/json', 'json'],
  ['application/jsonl', 'jsonl'],
  ['application/x-ndjson', 'jsonl'],
  ['application/x-jsonlines', 'jsonl'],
  ['text/html', 'html'],
  ['application/xhtml+xml', 'html'],
  ['application/pdf', 'pdf'],
  ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx'],
  ['application/vnd.openxmlformats-officedocument.presentationml.presentation', 'pptx'],
  ['application/javascript', 'text'],
  ['application/typescript', 'text'],
  ['application/xml', 'text'],
  ['application/x-sh', 'text'],
  ['application/x-yaml', 'text'],
  ['application/yaml', 'text'],
  ['application/toml', 'text'],
  ['application/sql', 'text'],
]);

export function extensionOf(filename: string): string | null {
  const base = filename.slice(filename.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  // No extension (Makefile, .bashrc): the content type or the bytes decide.
  if (dot <= 0 || dot === base.length - 1) return null;
  return base.slice(dot + 1).toLowerCase();
}

/**
 * The kind the file's name or declared content type says, `'unsupported'` when either names a
 * type we cannot read, or `null` when neither says anything and only the bytes can tell.
 */
export function declaredKind(filename: string, contentType?: string | null): FileKind | 'unsupported' | null {
  const ext = extensionOf(filename);
  if (ext !== null) {
    const kind = BY_EXTENSION.get(ext);
    if (kind) return kind;
    if (KNOWN_UNSUPPORTED.has(ext)) return 'unsupported';
  }
  const mime = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!mime || mime === 'application/octet-stream' || mime === 'binary/octet-stream') return null;
  const kind = BY_CONTENT_TYPE.get(mime);
  if (kind) return kind;
  if (mime.startsWith('text/')) return 'text';
  if (mime.endsWith('+json')) return 'json';
  if (mime.endsWith('+xml')) return 'text';
  return 'unsupported';
}

const MAGIC: { bytes: number[]; kind: FileKind | 'zip' | 'unsupported' }[] = [
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], kind: 'pdf' }, // %PDF-
  { bytes: [0x50, 0x4b, 0x03, 0x04], kind: 'zip' },
  { bytes: [0x89, 0x50, 0x4e, 0x47], kind: 'unsupported' }, // PNG
  { bytes: [0xff, 0xd8, 0xff], kind: 'unsupported' }, // JPEG
  { bytes: [0x47, 0x49, 0x46, 0x38], kind: 'unsupported' }, // GIF
  { bytes: [0x1f, 0x8b], kind: 'unsupported' }, // gzip
  { bytes: [0x7f, 0x45, 0x4c, 0x46], kind: 'unsupported' }, // ELF
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], kind: 'unsupported' }, // legacy Office (doc, ppt, xls)
];

/** What the first bytes say: a magic number, or `text` when they read as text, else `unsupported`. */
export function sniffKind(head: Buffer): FileKind | 'zip' | 'unsupported' {
  for (const { bytes, kind } of MAGIC) {
    if (head.length >= bytes.length && bytes.every((b, i) => head[i] === b)) return kind;
  }
  return looksLikeText(head) ? 'text' : 'unsupported';
}

/** Text: no NUL byte, decodes as UTF-8 (a sequence cut at the end of the sample is fine), few control characters. */
export function looksLikeText(sample: Buffer): boolean {
  if (sample.length === 0) return true;
  if (sample.includes(0)) return false;
  const text = new TextDecoder('utf-8').decode(trimPartialUtf8(sample));
  return badCharRatio(text) < 0.05;
}

/** Whether a sample is valid UTF-8 (an incomplete character at its very end, cut by the sample size, is fine). */
export function isUtf8Prefix(sample: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(trimPartialUtf8(sample));
    return true;
  } catch {
    return false;
  }
}

/** The share of characters that are replacement characters or control characters other than whitespace. */
export function badCharRatio(text: string): number {
  if (!text.length) return 0;
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c)) bad++;
  }
  return bad / text.length;
}

/** Drops an incomplete UTF-8 sequence at the end of a sample (it was cut by the sample size, not corrupt). */
function trimPartialUtf8(buf: Buffer): Buffer {
  for (let back = 1; back <= 3 && back <= buf.length; back++) {
    const b = buf[buf.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? buf.subarray(0, buf.length - back) : buf;
  }
  return buf;
}
