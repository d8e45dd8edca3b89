import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { boundaryOf, MultipartParser, MultipartSyntaxError, parseParams, type PartHeaders } from './multipart-parser.js';
import { prng } from '../../../test/support/fuzz-cases.js';

interface Part {
  headers: PartHeaders;
  skip: boolean;
  /** Hex: comparing strings is far quicker for the test runner than comparing Buffers. */
  body: string;
}

/** Feeds `body` in the given chunk sizes (cycled) and collects the parts; `ended` says whether end() passed. */
function parse(boundary: string, body: Buffer, sizes: number[] = [body.length || 1]) {
  const parts: Part[] = [];
  let open: { headers: PartHeaders; skip: boolean; chunks: Buffer[] } | undefined;
  const parser = new MultipartParser(boundary, {
    partBegin: (headers, skip) => (open = { headers, skip, chunks: [] }),
    partData: (data) => open!.chunks.push(Buffer.from(data)),
    partEnd: () => {
      parts.push({ headers: open!.headers, skip: open!.skip, body: Buffer.concat(open!.chunks).toString('hex') });
      open = undefined;
    },
  });
  for (let at = 0, i = 0; at < body.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!);
    parser.write(body.subarray(at, at + n));
    at += n;
  }
  parser.end();
  return parts;
}

const form = (boundary: string, parts: { head: string; body: Buffer | string }[], close = `--${boundary}--\r\n`) =>
  Buffer.concat([...parts.flatMap((p) => [Buffer.from(`--${boundary}\r\n${p.head}\r\n\r\n`), Buffer.from(p.body), Buffer.from('\r\n')]), Buffer.from(close)]);

describe('MultipartParser', () => {
  it('gives the same parts however the body is cut, with delimiter look-alikes in the data', () => {
    const b = 'XyZ--b0undary';
    // Data full of near-delimiters: CRLF, CRLF--, CRLF--XyZ, the boundary without its CRLF, a lone CR at the end.
    const tricky = Buffer.from(`a\r\nb\r\n-c\r\n--d\r\n--XyZ--b0undar\r\n--XyZ--b0undarX--${b}\r\r\n\r`);
    const binary = randomBytes(5000);
    const body = form(b, [
      { head: 'Content-Disposition: form-data; name="purpose"', body: 'assistants' },
      { head: 'Content-Disposition: form-data; name="file"; filename="t.bin"\r\nContent-Type: Application/Octet-Stream; x=1', body: tricky },
      { head: 'Content-Disposition: form-data; name="empty"', body: '' },
      { head: 'content-disposition: form-data; name="bin"; filename="b"', body: binary },
    ]);
    const expected = [
      { headers: { name: 'purpose', filename: undefined, mimeType: '' }, skip: false, body: Buffer.from('assistants').toString('hex') },
      { headers: { name: 'file', filename: 't.bin', mimeType: 'application/octet-stream' }, skip: false, body: tricky.toString('hex') },
      { headers: { name: 'empty', filename: undefined, mimeType: '' }, skip: false, body: '' },
      { headers: { name: 'bin', filename: 'b', mimeType: '' }, skip: false, body: binary.toString('hex') },
    ];
    expect(parse(b, body)).toEqual(expected);
    expect(parse(b, body, [1])).toEqual(expected);
    const random = prng(7);
    for (let round = 0; round < 200; round++) {
      const sizes = Array.from({ length: 8 }, () => 1 + Math.floor(random() * 40));
      expect(parse(b, body, sizes)).toEqual(expected);
    }
  });

  it('takes a preamble, an epilogue, transport padding and a first delimiter after CRLF', () => {
    const body = Buffer.from('preamble text\r\n--b  \t\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\nepilogue --b\r\n');
    expect(parse('b', body, [3])).toEqual([{ headers: { name: 'a', filename: undefined, mimeType: '' }, skip: false, body: Buffer.from('1').toString('hex') }]);
    expect(parse('b', Buffer.from('\r\n--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n--b--'))).toMatchObject([{ body: '' }]);
    expect(parse('b', Buffer.from('--b--'))).toEqual([]);
  });

  it('reads names and file names: quoted, escaped, percent-encoded (filename*), UTF-8, paths removed; skips parts that are not form-data', () => {
    const body = form('b', [
      { head: 'Content-Disposition: form-data; name="q\\"x"; filename="C:\\\\dir\\\\ü a.txt"', body: '1' },
      { head: "Content-Disposition: form-data; name=plain; filename=\"ignored\"; filename*=UTF-8''%E2%82%AC%20rates.txt", body: '2' },
      { head: 'Content-Disposition: form-data; name="f"; filename="../.."', body: '3' },
      { head: 'Content-Disposition: attachment; name="x"', body: '4' },
      { head: 'Content-Type: text/plain', body: '5' },
      { head: 'Content-Disposition: form-data;\r\n name="folded"', body: '6' },
    ]);
    const parts = parse('b', body);
    expect(parts.map((p) => [p.headers.name, p.headers.filename, p.skip])).toEqual([
      ['q"x', 'ü a.txt', false],
      ['plain', '€ rates.txt', false],
      ['f', '', false],
      ['x', undefined, true],
      [undefined, undefined, true],
      ['folded', undefined, false],
    ]);
  });

  it('refuses malformed bodies', () => {
    const bad = (text: string) => () => parse('b', Buffer.from(text));
    expect(bad('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nabc')).toThrow(MultipartSyntaxError); // no closing delimiter
    expect(bad('--b\r\nContent-Disposition: form-data; name="a"')).toThrow(MultipartSyntaxError); // headers never end
    expect(bad('no delimiter at all')).toThrow(MultipartSyntaxError);
    expect(bad('--bX\r\n\r\n--b--')).toThrow(MultipartSyntaxError); // garbage after a delimiter
    expect(bad('--b-x')).toThrow(MultipartSyntaxError);
    expect(bad('--b\rx')).toThrow(MultipartSyntaxError);
    expect(bad('--b\r\nno colon here\r\n\r\nx\r\n--b--')).toThrow(MultipartSyntaxError);
    expect(bad(`--b\r\nX-Big: ${'x'.repeat(17_000)}\r\n\r\nx\r\n--b--`)).toThrow(/too large/);
    expect(bad(`--b\r\nX-Big: ${'x'.repeat(17_000)}`)).toThrow(/too large/);
    expect(bad(`--b\r\n${'A: 1\r\n'.repeat(101)}\r\nx\r\n--b--`)).toThrow(/too many lines/);
  });

  it('reads the boundary of a content type', () => {
    expect(boundaryOf('multipart/form-data; boundary=abc')).toBe('abc');
    expect(boundaryOf('Multipart/Form-Data; charset=utf-8; boundary="a b;c"')).toBe('a b;c');
    expect(boundaryOf('multipart/form-data')).toBeUndefined();
    expect(boundaryOf('multipart/form-data; boundary=')).toBeUndefined();
    expect(boundaryOf('multipart/mixed; boundary=abc')).toBeUndefined();
    expect(boundaryOf(`multipart/form-data; boundary=${'x'.repeat(201)}`)).toBeUndefined();
    expect(parseParams('form-data; name="unterminated')).toBeUndefined();
  });
});
