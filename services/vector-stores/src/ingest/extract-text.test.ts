import { describe, expect, it } from 'vitest';
import { extractText } from './extract-text.js';
import { IngestFileError, InvalidFileError, lastErrorOf, UnsupportedFileError } from './ingest-errors.js';
import * as samples from './test-samples.js';


async function textOf(filename: string, body: Buffer | string, contentType?: string, chunkSize?: number): Promise<string> {
  let out = '';
  for await (const segment of extractText({ filename, contentType, body: samples.streamOf(body, chunkSize) })) out += segment;
  return out;
}

async function failureOf(filename: string, body: Buffer | string, contentType?: string): Promise<IngestFileError> {
  try {
    await textOf(filename, body, contentType);
  } catch (err) {
    if (err instanceof IngestFileError) return err;
    throw err;
  }
  throw new Error(`extracting ${filename} did not fail`);
}

describe('extractText by type', () => {
  it('reads plain text, Markdown and code as they are', async () => {
    expect(await textOf('notes.txt', 'hello world\n')).toBe('hello world\n');
    expect(await textOf('guide.md', samples.sampleMarkdown)).toBe(samples.sampleMarkdown);
    expect(await textOf('fib.ts', samples.sampleCode)).toBe(samples.sampleCode);
    expect(await textOf('data.csv', samples.sampleCsv)).toBe(samples.sampleCsv);
  });

  it('pretty-prints JSON', async () => {
    expect(await textOf('product.json', samples.sampleJson)).toBe(JSON.stringify(JSON.parse(samples.sampleJson), null, 2));
  });

  it('pretty-prints each JSONL record, skipping blank lines, even when reads cut lines', async () => {
    const text = await textOf('qa.jsonl', samples.sampleJsonl, undefined, 7);
    expect(text).toContain('"question": "What is the capital of Peru?"');
    expect(text).toContain('"answer": "Jupiter"');
    expect(text.split('\n\n')).toHaveLength(2);
  });

  it('turns HTML into text with table rows kept together and no script or style', async () => {
    const text = await textOf('report.html', samples.sampleHtml);
    expect(text).toContain('Fleet report');
    expect(text).toMatch(/Ship\s+Tonnage/);
    expect(text).toMatch(/Aurora\s+1200/);
    expect(text).toMatch(/Borealis\s+3400/);
    expect(text).toContain('Café & bar on deck 3.');
    expect(text).not.toContain('script text');
    expect(text).not.toContain('color:red');
    expect(text).not.toContain('example.com');
  });

  it('reads every page of a PDF', async () => {
    const pdf = await samples.samplePdf(['Quarterly results: revenue rose 12%.', 'Second page mentions the Andromeda project.']);
    const text = await textOf('report.pdf', pdf);
    expect(text).toContain('Quarterly results: revenue rose 12%.');
    expect(text).toContain('Andromeda project');
    expect(text.indexOf('Quarterly')).toBeLessThan(text.indexOf('Andromeda'));
  });

  it('reads a DOCX', async () => {
    const docx = await samples.sampleDocx(['The warranty lasts two years.', 'Returns: within 30 days & with receipt <always>.']);
    const text = await textOf('policy.docx', docx);
    expect(text).toContain('The warranty lasts two years.');
    expect(text).toContain('Returns: within 30 days & with receipt <always>.');
  });

  it('reads a PPTX in presentation order, runs joined, with speaker notes', async () => {
    const pptx = await samples.samplePptx(
      [
        { paragraphs: [['Intro', 'duction'], 'Agenda & goals'], notes: 'Speak slowly here.' },
        { paragraphs: ['Roadmap 2027'] },
        { paragraphs: ['Questions?'], notes: 'Thank the team.' },
      ],
      { reverseParts: true },
    );
    const text = await textOf('deck.pptx', pptx);
    expect(text).toContain('Introduction');
    expect(text).toContain('Agenda & goals');
    const order = ['Introduction', 'Speak slowly here.', 'Roadmap 2027', 'Questions?', 'Thank the team.'].map((s) => text.indexOf(s));
    expect(order.every((pos) => pos >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('goes by content type when the name has no extension, and by sniffing when neither says', async () => {
    expect(await textOf('upload', samples.sampleJson, 'application/json')).toContain('"product": "Widget"');
    expect(await textOf('README', 'just words\n')).toBe('just words\n');
    const pdf = await samples.samplePdf(['Sniffed PDF text']);
    expect(await textOf('blob', pdf, 'application/octet-stream')).toContain('Sniffed PDF text');
    const docx = await samples.sampleDocx(['Sniffed DOCX text']);
    expect(await textOf('blob', docx)).toContain('Sniffed DOCX text');
  });

  it('reads Windows-1252 (Latin-1) text as such, not as broken UTF-8', async () => {
    const latin1 = Buffer.from('Le café était très naïf. Prix : 5 €.\n', 'latin1');
    latin1[latin1.length - 3] = 0x80; // the euro sign's Windows-1252 byte
    expect(await textOf('vieux.txt', latin1)).toBe('Le café était très naïf. Prix : 5 €.\n');
  });

  it('reads UTF-16 text with a byte-order mark', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('héllo wörld 世界', 'utf16le')]);
    expect(await textOf('legacy.txt', utf16)).toBe('héllo wörld 世界');
  });
});

describe('extractText failures', () => {
  it('refuses unsupported types with unsupported_file', async () => {
    for (const [name, body, type] of [
      ['photo.png', samples.samplePngHeader, undefined],
      ['image', samples.samplePngHeader, undefined],
      ['data.bin', samples.garbageBytes(4096), undefined],
      ['blob', samples.garbageBytes(4096), 'application/octet-stream'],
      ['clip', 'not really', 'video/mp4'],
      ['archive.zip', samples.garbageBytes(100), undefined],
    ] as const) {
      const err = await failureOf(name, body, type);
      expect(err, name).toBeInstanceOf(UnsupportedFileError);
      expect(err.code).toBe('unsupported_file');
      expect(err.message).toMatch(/not supported/);
    }
  });

  it('refuses corrupt files of supported types with invalid_file', async () => {
    const pdf = await samples.samplePdf(['some text']);
    const cases: [string, Buffer | string][] = [
      ['truncated.pdf', pdf.subarray(0, 200)],
      ['garbage.pdf', samples.garbageBytes(2000)],
      ['garbage.docx', samples.garbageBytes(2000)],
      ['garbage.pptx', samples.garbageBytes(2000)],
      ['binary.txt', samples.garbageBytes(20000)],
      ['broken.json', '{"a": 1,'],
      ['broken.jsonl', '{"a": 1}\n{"b": \n'],
    ];
    for (const [name, body] of cases) {
      const err = await failureOf(name, body);
      expect(err, name).toBeInstanceOf(InvalidFileError);
      expect(err.code).toBe('invalid_file');
    }
    expect((await failureOf('broken.jsonl', '{"a": 1}\n{"b": \n')).message).toMatch(/^Line 2 /);
  });

  it('caps the size of files it must hold whole', async () => {
    const pdf = await samples.samplePdf(['x']);
    const body = samples.streamOf(pdf, 100);
    const run = async () => {
      for await (const _ of extractText({ filename: 'big.pdf', body, maxBufferedBytes: 500 })) void _;
    };
    await expect(run()).rejects.toThrow(/larger than the 500 bytes/);
  });

  it('refuses a DOCX or PPTX that unpacks to more than the cap (a zip bomb)', async () => {
    const docx = await samples.sampleDocx(['x'.repeat(200_000)]); // compresses to a few hundred bytes
    const run = async () => {
      for await (const _ of extractText({ filename: 'bomb.docx', body: samples.streamOf(docx), maxUnzippedBytes: 100_000 })) void _;
    };
    await expect(run()).rejects.toThrow(/unpacks to \d+ KB, more than the 98 KB/);
    const html = async () => {
      for await (const _ of extractText({ filename: 'big.html', body: samples.streamOf('<p>' + 'x'.repeat(5000)), maxMarkupBytes: 1000 })) void _;
    };
    await expect(html()).rejects.toBeInstanceOf(InvalidFileError);
  });

  it('releases the source stream when it refuses a file or its reader stops early', async () => {
    const refused = samples.streamOf(samples.garbageBytes(300_000), 1024);
    await expect(
      (async () => {
        for await (const _ of extractText({ filename: 'x.png', body: refused })) void _;
      })(),
    ).rejects.toBeInstanceOf(UnsupportedFileError);
    expect(refused.destroyed).toBe(true);
    const stopped = samples.largeTextStream(10 * 1024 * 1024);
    for await (const _ of extractText({ filename: 'x.txt', body: stopped })) break;
    expect(stopped.destroyed).toBe(true);
  });

  it('maps errors to last_error codes (anything unexpected is a server_error)', () => {
    expect(lastErrorOf(new InvalidFileError('bad'))).toEqual({ code: 'invalid_file', message: 'bad' });
    expect(lastErrorOf(new UnsupportedFileError('no'))).toEqual({ code: 'unsupported_file', message: 'no' });
    expect(lastErrorOf(new Error('secret internals')).code).toBe('server_error');
    expect(lastErrorOf(new Error('secret internals')).message).not.toContain('secret');
  });
});

describe('extractText streaming', () => {
  it('decodes multi-byte characters cut between reads', async () => {
    const text = 'emoji 😀 and 世界 and café '.repeat(2000);
    for (const size of [1, 2, 3, 5, 4093]) {
      expect(await textOf('utf8.txt', size === 1 ? text.slice(0, 300) : text, undefined, size)).toBe(size === 1 ? text.slice(0, 300) : text);
    }
  });

  it('streams a 128 MB text file with bounded memory and bounded segments', async () => {
    const total = 128 * 1024 * 1024;
    const memory = samples.memoryProbe();
    let bytes = 0;
    let maxSegment = 0;
    let segments = 0;
    let replacement = 0;
    for await (const segment of extractText({ filename: 'huge.txt', body: samples.largeTextStream(total) })) {
      bytes += Buffer.byteLength(segment);
      maxSegment = Math.max(maxSegment, segment.length);
      if (segment.includes('\uFFFD')) replacement++;
      if (++segments % 256 === 0) memory.sample();
    }
    expect(bytes).toBeGreaterThanOrEqual(total);
    expect(replacement).toBe(0);
    expect(maxSegment).toBeLessThanOrEqual(64 * 1024);
    console.log(`extractText: 128 MB streamed, RSS growth ${memory.rssGrowthMb().toFixed(1)} MB, heap growth ${memory.heapGrowthMb().toFixed(1)} MB`);
    expect(memory.heapGrowthMb()).toBeLessThan(8);
    expect(memory.rssGrowthMb()).toBeLessThan(48);
  }, 120_000);
});
