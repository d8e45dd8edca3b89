import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import JSZip from 'jszip';
import { PDFDocument, StandardFonts } from 'pdf-lib';

// Real sample files, generated (no binary fixtures): for the unit tests here and the integration
// tests of the vector store API. Not part of the service's runtime exports (pdf-lib is a dev dependency).

/** A PDF with one page per entry (WinAnsi text only: the standard fonts have no CJK or emoji). */
export async function samplePdf(pages: string[]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const text of pages) {
    const page = doc.addPage([612, 792]);
    let y = 740;
    for (const line of text.split('\n')) {
      page.drawText(line, { x: 50, y, size: 12, font });
      y -= 18;
    }
  }
  return Buffer.from(await doc.save());
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';

/** A minimal valid DOCX: one paragraph per entry. */
export async function sampleDocx(paragraphs: string[]): Promise<Buffer> {
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
      '</Types>',
  );
  zip.file('_rels/.rels', `${XML_HEAD}<Relationships xmlns="${PKG_REL}"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="word/document.xml"/></Relationships>`);
  zip.file('word/_rels/document.xml.rels', `${XML_HEAD}<Relationships xmlns="${PKG_REL}"></Relationships>`);
  const body = paragraphs.map((p) => `<w:p><w:r><w:t xml:space="preserve">${xmlEscape(p)}</w:t></w:r></w:p>`).join('');
  zip.file('word/document.xml', `${XML_HEAD}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

export interface SampleSlide {
  /** One paragraph per entry; an entry given as an array is one paragraph of several runs. */
  paragraphs: (string | string[])[];
  notes?: string;
}

/**
 * A minimal PPTX. The slide parts are numbered in reverse of the presentation order when `reverseParts`
 * is set, so a reader that sorts by file name instead of following presentation.xml gets it wrong.
 */
export async function samplePptx(slides: SampleSlide[], opts: { reverseParts?: boolean } = {}): Promise<Buffer> {
  const zip = new JSZip();
  const partNo = (i: number): number => (opts.reverseParts ? slides.length - i : i + 1);
  const overrides = [
    '<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>',
  ];
  const presRels: string[] = [];
  const sldIds: string[] = [];
  slides.forEach((slide, i) => {
    const n = partNo(i);
    overrides.push(`<Override PartName="/ppt/slides/slide${n}.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>`);
    presRels.push(`<Relationship Id="rId${i + 2}" Type="${REL}/slide" Target="slides/slide${n}.xml"/>`);
    sldIds.push(`<p:sldId id="${256 + i}" r:id="rId${i + 2}"/>`);
    const paras = slide.paragraphs
      .map((p) => `<a:p>${(Array.isArray(p) ? p : [p]).map((run) => `<a:r><a:rPr lang="en-US"/><a:t>${xmlEscape(run)}</a:t></a:r>`).join('')}</a:p>`)
      .join('');
    zip.file(`ppt/slides/slide${n}.xml`, `${XML_HEAD}<p:sld ${NS}><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>${paras}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>`);
    if (slide.notes !== undefined) {
      overrides.push(`<Override PartName="/ppt/notesSlides/notesSlide${n}.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.notesSlide+xml"/>`);
      zip.file(
        `ppt/slides/_rels/slide${n}.xml.rels`,
        `${XML_HEAD}<Relationships xmlns="${PKG_REL}"><Relationship Id="rId1" Type="${REL}/notesSlide" Target="../notesSlides/notesSlide${n}.xml"/></Relationships>`,
      );
      zip.file(
        `ppt/notesSlides/notesSlide${n}.xml`,
        `${XML_HEAD}<p:notes ${NS}><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/><a:p><a:r><a:t>${xmlEscape(slide.notes)}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:notes>`,
      );
    }
  });
  zip.file(
    '[Content_Types].xml',
    `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      `<Default Extension="xml" ContentType="application/xml"/>${overrides.join('')}</Types>`,
  );
  zip.file('_rels/.rels', `${XML_HEAD}<Relationships xmlns="${PKG_REL}"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="ppt/presentation.xml"/></Relationships>`);
  zip.file('ppt/_rels/presentation.xml.rels', `${XML_HEAD}<Relationships xmlns="${PKG_REL}">${presRels.join('')}</Relationships>`);
  zip.file('ppt/presentation.xml', `${XML_HEAD}<p:presentation ${NS}><p:sldIdLst>${sldIds.join('')}</p:sldIdLst></p:presentation>`);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

const NS =
  'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"';

export const sampleHtml = `<!doctype html><html><head><title>Fleet report</title><style>body{color:red}</style><script>var hidden = "script text";</script></head>
<body><h1>Fleet report</h1><p>The <a href="https://example.com/x">fleet</a> grew this quarter.</p>
<table><thead><tr><th>Ship</th><th>Tonnage</th></tr></thead>
<tbody><tr><td>Aurora</td><td>1200</td></tr><tr><td>Borealis</td><td>3400</td></tr></tbody></table>
<p>Caf&eacute; &amp; bar on deck 3.</p></body></html>`;

export const sampleCsv = 'city,country,population\nLisbon,Portugal,545000\n"Paris, Île-de-France",France,2100000\n';
export const sampleJson = JSON.stringify({ product: 'Widget', tags: ['blue', 'small'], price: { amount: 9.5, currency: 'EUR' } });
export const sampleJsonl = '{"id":1,"question":"What is the capital of Peru?","answer":"Lima"}\n\n{"id":2,"question":"Largest planet?","answer":"Jupiter"}\n';
export const sampleMarkdown = '# Install guide\n\nRun `npm install` first.\n\n## Troubleshooting\n\n- **Error 42**: restart the daemon.\n';
export const sampleCode = 'export function fibonacci(n: number): number {\n  // the classic recursion\n  return n < 2 ? n : fibonacci(n - 1) + fibonacci(n - 2);\n}\n';

/** The first bytes of a PNG (signature + IHDR start): a real image header, not text. */
export const samplePngHeader = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

/** Deterministic pseudo-random bytes (binary garbage). */
export function garbageBytes(size: number, seed = 7): Buffer {
  const out = Buffer.alloc(size);
  let s = seed;
  for (let i = 0; i < size; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out[i] = s >> 16;
  }
  return out;
}

/** A buffer as a stream of `chunkSize`-byte reads (to cut characters and lines at odd places). */
export function streamOf(buf: Buffer | string, chunkSize = 64 * 1024): Readable {
  const bytes = typeof buf === 'string' ? Buffer.from(buf, 'utf8') : buf;
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
    })(),
  );
}

const WORDS = 'the of and to in vector store search chunk token embedding file index query model server worker queue retry café naïve 数据 世界 😀 résumé'.split(' ');

/**
 * About `totalBytes` of generated prose (ASCII, accents, CJK and emoji), valid UTF-8 as a whole but
 * produced lazily in reads of exactly `chunkSize` bytes that often end mid-character, so a test can
 * stream hundreds of MB without holding them and check characters survive the cuts.
 */
export function largeTextStream(totalBytes: number, chunkSize = 64 * 1024, seed = 1): Readable {
  let s = seed;
  const next = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff);
  return Readable.from(
    (function* () {
      let produced = 0;
      let carry = Buffer.alloc(0);
      while (produced < totalBytes) {
        const words: string[] = [];
        let len = carry.length;
        while (len < chunkSize) {
          const w = WORDS[next() % WORDS.length]!;
          words.push(w);
          len += Buffer.byteLength(w) + 1;
          if (next() % 13 === 0) words.push('.\n');
        }
        const buf = Buffer.concat([carry, Buffer.from(words.join(' ') + ' ', 'utf8')]);
        carry = Buffer.from(buf.subarray(chunkSize));
        produced += chunkSize;
        yield buf.subarray(0, chunkSize);
      }
      if (carry.length) yield carry; // ends on a whole character
    })(),
  );
}

/**
 * Measures memory growth from now on, collecting garbage before each sample so that what is
 * measured is what is held, not what the collector has not got round to yet.
 */
export function memoryProbe(): { sample(): void; rssGrowthMb: () => number; heapGrowthMb: () => number } {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  const base = process.memoryUsage();
  let rss = 0;
  let heap = 0;
  return {
    sample() {
      gc();
      const now = process.memoryUsage();
      rss = Math.max(rss, now.rss - base.rss);
      heap = Math.max(heap, now.heapUsed + now.arrayBuffers - base.heapUsed - base.arrayBuffers);
    },
    rssGrowthMb: () => rss / 1048576,
    heapGrowthMb: () => heap / 1048576,
  };
}
