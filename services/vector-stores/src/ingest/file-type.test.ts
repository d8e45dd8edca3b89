import { describe, expect, it } from 'vitest';
import { declaredKind, extensionOf, looksLikeText, sniffKind } from './file-type.js';
import { garbageBytes, samplePngHeader } from './test-samples.js';

describe('file type', () => {
  it('goes by extension first, case-insensitively, whatever the content type says', () => {
    expect(declaredKind('Report.PDF', 'text/plain')).toBe('pdf');
    expect(declaredKind('a/b/notes.md')).toBe('text');
    expect(declaredKind('main.rs')).toBe('text');
    expect(declaredKind('rows.ndjson')).toBe('jsonl');
    expect(declaredKind('deck.pptx', 'application/octet-stream')).toBe('pptx');
    expect(declaredKind('photo.png', 'text/plain')).toBe('unsupported');
    expect(declaredKind('old.doc')).toBe('unsupported');
  });

  it('then by content type, ignoring parameters; octet-stream says nothing', () => {
    expect(declaredKind('upload', 'application/json; charset=utf-8')).toBe('json');
    expect(declaredKind('upload.weird', 'text/x-python')).toBe('text');
    expect(declaredKind('upload', 'application/ld+json')).toBe('json');
    expect(declaredKind('upload', 'image/png')).toBe('unsupported');
    expect(declaredKind('upload', 'application/octet-stream')).toBeNull();
    expect(declaredKind('upload.bin')).toBeNull();
  });

  it('then by the first bytes', () => {
    expect(sniffKind(Buffer.from('%PDF-1.7\n'))).toBe('pdf');
    expect(sniffKind(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0]))).toBe('zip');
    expect(sniffKind(samplePngHeader)).toBe('unsupported');
    expect(sniffKind(Buffer.from('plain words, ünïcode 世界'))).toBe('text');
    expect(sniffKind(garbageBytes(8192))).toBe('unsupported');
  });

  it('reads a sample cut mid-character as text, but not one with NUL bytes', () => {
    const text = Buffer.from('abc 世界');
    expect(looksLikeText(text.subarray(0, text.length - 1))).toBe(true);
    expect(looksLikeText(Buffer.from('abc\0def'))).toBe(false);
    expect(extensionOf('.bashrc')).toBeNull();
    expect(extensionOf('Dockerfile')).toBeNull();
    expect(extensionOf('archive.tar.GZ')).toBe('gz');
  });
});
