import type { default as JSZipModule } from 'jszip';
import type { extractText as ExtractPdfText, getDocumentProxy as GetDocumentProxy } from 'unpdf';
import { formatBytes } from './byte-stream.js';
import { InvalidFileError } from './ingest-errors.js';
import { slices } from './text-decode.js';

// jszip, mammoth and unpdf (about a megabyte of code) load on the first PDF, DOCX or PPTX file, not
// with the service: each name below stands for the library's own function and loads it when called.
type JSZip = JSZipModule;
const JSZip = { loadAsync: async (buf: Buffer) => (await import('jszip')).default.loadAsync(buf) };
const mammoth = { extractRawText: async (input: { buffer: Buffer }) => (await import('mammoth')).default.extractRawText(input) };
const getDocumentProxy: typeof GetDocumentProxy = async (...args) => (await import('unpdf')).getDocumentProxy(...args);
const extractPdfText = (async (...args: Parameters<typeof ExtractPdfText>) => (await import('unpdf')).extractText(...args)) as typeof ExtractPdfText;

// Binary document formats: each needs the whole file in memory (the caller caps its size).

/** A PDF's text, page by page (pages separated by a blank line). */
export async function* extractPdf(buf: Buffer): AsyncGenerator<string> {
  let pages: string[];
  try {
    // A copy: pdf.js may detach the buffer it is given, and ours may share Node's buffer pool.
    const pdf = await getDocumentProxy(new Uint8Array(buf), { verbosity: 0 });
    try {
      pages = (await extractPdfText(pdf, { mergePages: false })).text;
    } finally {
      await pdf.destroy();
    }
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === 'PasswordException') throw new InvalidFileError('The PDF file is encrypted with a password; its text cannot be read.');
    throw new InvalidFileError(`The PDF file could not be read: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  let first = true;
  for (const page of pages) {
    if (!page.trim()) continue;
    yield* slices((first ? '' : '\n\n') + page);
    first = false;
  }
}

/** A DOCX's raw text (paragraphs separated by blank lines), as mammoth reads it. */
export async function* extractDocx(buf: Buffer, maxUnzipped?: number): AsyncGenerator<string> {
  await openZip(buf, 'DOCX', maxUnzipped); // mammoth opens it again; this only checks it before anything is inflated
  let text: string;
  try {
    text = (await mammoth.extractRawText({ buffer: buf })).value;
  } catch (err) {
    throw new InvalidFileError(`The DOCX file could not be read: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  yield* slices(text);
}

/** A PPTX's text: each slide's text runs in presentation order, each followed by its speaker notes. */
export async function* extractPptx(buf: Buffer, maxUnzipped?: number): AsyncGenerator<string> {
  const zip = await openZip(buf, 'PPTX', maxUnzipped);
  const slides = await slideOrder(zip);
  if (!slides.length) throw new InvalidFileError('The PPTX file has no slides (no ppt/slides/slideN.xml).');
  let first = true;
  for (const slidePath of slides) {
    const parts = [xmlText(await zip.file(slidePath)!.async('string'))];
    const notesPath = await relatedPart(zip, slidePath, '/notesSlide');
    const notes = notesPath ? zip.file(notesPath) : null;
    if (notes) parts.push(xmlText(await notes.async('string')));
    const text = parts.filter((p) => p.trim()).join('\n\n');
    if (!text) continue;
    yield* slices((first ? '' : '\n\n') + text);
    first = false;
  }
}

/** Whether a zip is a DOCX or a PPTX by its entries (null: neither). */
export async function zipKind(buf: Buffer): Promise<'docx' | 'pptx' | null> {
  const zip = await openZip(buf, 'zip');
  if (zip.file('word/document.xml')) return 'docx';
  if (zip.file('ppt/presentation.xml')) return 'pptx';
  return null;
}

/** Default cap on the total unzipped size of a DOCX or PPTX: a small zip can hold gigabytes (a zip bomb). */
export const DEFAULT_MAX_UNZIPPED_BYTES = 512 * 1024 * 1024;

async function openZip(buf: Buffer, what: string, maxUnzipped = DEFAULT_MAX_UNZIPPED_BYTES): Promise<JSZip> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(buf);
  } catch (err) {
    throw new InvalidFileError(`The ${what} file is not a valid zip package: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  // The sizes the zip declares (JSZip fails an entry whose data does not match its declared size).
  let total = 0;
  for (const entry of Object.values(zip.files)) {
    total += (entry as unknown as { _data?: { uncompressedSize?: number } })._data?.uncompressedSize ?? 0;
  }
  if (total > maxUnzipped) {
    throw new InvalidFileError(`The ${what} file unpacks to ${formatBytes(total)}, more than the ${formatBytes(maxUnzipped)} this server accepts.`);
  }
  return zip;
}

/** Slide part paths in the order the presentation lists them; by slide number when it does not say. */
async function slideOrder(zip: JSZip): Promise<string[]> {
  const presentation = await zip.file('ppt/presentation.xml')?.async('string');
  const rels = await zip.file('ppt/_rels/presentation.xml.rels')?.async('string');
  if (presentation && rels) {
    const targets = relationshipTargets(rels, 'ppt/');
    const ordered = [...presentation.matchAll(/<p:sldId\b[^>]*\br:id="([^"]+)"/g)]
      .map((m) => targets.get(m[1]!)?.target)
      .filter((path): path is string => !!path && !!zip.file(path));
    if (ordered.length) return ordered;
  }
  return Object.keys(zip.files)
    .filter((path) => /^ppt\/slides\/slide\d+\.xml$/.test(path))
    .sort((a, b) => slideNumber(a) - slideNumber(b));
}

function slideNumber(path: string): number {
  return Number(/(\d+)\.xml$/.exec(path)?.[1] ?? 0);
}

/** The part a slide links to with a relationship of the given type (e.g. its notes). */
async function relatedPart(zip: JSZip, partPath: string, typeSuffix: string): Promise<string | null> {
  const dir = partPath.slice(0, partPath.lastIndexOf('/') + 1);
  const name = partPath.slice(dir.length);
  const rels = await zip.file(`${dir}_rels/${name}.rels`)?.async('string');
  if (!rels) return null;
  for (const { type, target } of relationshipTargets(rels, dir).values()) {
    if (type.endsWith(typeSuffix)) return target;
  }
  return null;
}

/** Relationship id → {type, target resolved against the base folder}. */
function relationshipTargets(relsXml: string, baseDir: string): Map<string, { type: string; target: string }> {
  const out = new Map<string, { type: string; target: string }>();
  for (const m of relsXml.matchAll(/<Relationship\b([^>]*)\/?>/g)) {
    const attrs = m[1]!;
    const id = /\bId="([^"]*)"/.exec(attrs)?.[1];
    const target = /\bTarget="([^"]*)"/.exec(attrs)?.[1];
    const type = /\bType="([^"]*)"/.exec(attrs)?.[1] ?? '';
    if (id && target) out.set(id, { type, target: resolvePath(baseDir, target) });
  }
  return out;
}

function resolvePath(baseDir: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  const parts = baseDir.split('/').filter(Boolean);
  for (const seg of target.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.') parts.push(seg);
  }
  return parts.join('/');
}

/** The `<a:t>` runs of DrawingML, one line per `<a:p>` paragraph. */
export function xmlText(xml: string): string {
  const paragraphs: string[] = [];
  for (const p of xml.matchAll(/<a:p\b[^>]*>([\s\S]*?)<\/a:p>/g)) {
    const runs = [...p[1]!.matchAll(/<a:t(?:\s[^>]*)?>([\s\S]*?)<\/a:t>|<a:br\b[^>]*\/>/g)].map((r) => (r[1] === undefined ? '\n' : decodeXml(r[1])));
    const line = runs.join('');
    if (line.trim()) paragraphs.push(line);
  }
  return paragraphs.join('\n');
}

function decodeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code <= 0x10ffff ? String.fromCodePoint(code) : '\uFFFD';
    }
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e.toLowerCase()]!;
  });
}
