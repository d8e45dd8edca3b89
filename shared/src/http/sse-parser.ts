/** One server-sent event: its `event:` name (if any) and its joined `data:` lines. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** Longest line (in UTF-16 code units, about bytes for JSON) the parser holds by default. */
export const DEFAULT_MAX_SSE_LINE = 8 * 1024 * 1024;

/** A stream line past the parser's limit: the sender is broken or hostile; the stream must end. */
export class SseLineTooLongError extends Error {
  readonly code = 'SSE_LINE_TOO_LONG';
  constructor(readonly limit: number) {
    super(`server-sent event line longer than ${limit} characters`);
  }
}

/**
 * Incremental SSE parser: feed it bytes as they arrive, split anywhere (even inside a multi-byte
 * character or between `\r` and `\n`), and it yields complete events.
 *
 * Linear in the input: each chunk is searched for line ends once, and a line split over many chunks
 * is kept as a list of pieces joined once when it completes (appending to one string and searching
 * it again from the start on every chunk made a 40 MB line cost seconds of CPU). An unfinished line
 * longer than `maxLine` throws SseLineTooLongError.
 */
export class SseParser {
  private readonly decoder = new TextDecoder();
  private pieces: string[] = [];
  private pending = 0;
  /** The last chunk ended with `\r`: a `\n` opening the next one belongs to the same line end. */
  private skipLf = false;
  private event: string | undefined;
  private data: string[] = [];
  private dataLength = 0;

  constructor(private readonly maxLine = DEFAULT_MAX_SSE_LINE) {}

  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const out: SseEvent[] = [];
    let start = 0;
    if (this.skipLf && text.length > 0) {
      if (text.charCodeAt(0) === 10) start = 1;
      this.skipLf = false;
    }
    // Next `\n` and `\r` positions, each searched for again only once passed: one scan of the chunk.
    let nl = text.indexOf('\n', start);
    let cr = text.indexOf('\r', start);
    for (;;) {
      if (nl !== -1 && nl < start) nl = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      const end = nl === -1 ? cr : cr === -1 ? nl : Math.min(nl, cr);
      if (end === -1) break;
      if (this.pending + end - start > this.maxLine) throw this.tooLong();
      let line = text.slice(start, end);
      if (this.pending > 0) {
        this.pieces.push(line);
        line = this.pieces.join('');
        this.pieces = [];
        this.pending = 0;
      }
      if (end === cr) {
        if (end + 1 === text.length) this.skipLf = true;
        start = end + (text.charCodeAt(end + 1) === 10 ? 2 : 1);
      } else {
        start = end + 1;
      }
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    if (start < text.length) {
      this.pending += text.length - start;
      if (this.pending > this.maxLine) throw this.tooLong();
      this.pieces.push(start === 0 ? text : text.slice(start));
    }
    return out;
  }

  /** Flushes an event left without its closing blank line when the stream ends. */
  end(): SseEvent[] {
    const tail = this.decoder.decode();
    return this.push(`${tail}\n\n`);
  }

  private tooLong(): SseLineTooLongError {
    this.pieces = [];
    this.pending = 0;
    this.data = [];
    this.dataLength = 0;
    return new SseLineTooLongError(this.maxLine);
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.data.length === 0 && this.event === undefined) return undefined;
      const ev: SseEvent = { data: this.data.join('\n') };
      if (this.event !== undefined) ev.event = this.event;
      this.data = [];
      this.dataLength = 0;
      this.event = undefined;
      return ev;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      // Many short data lines add up to one event: the same bound applies to their sum.
      this.dataLength += value.length + 1;
      if (this.dataLength > this.maxLine) throw this.tooLong();
      this.data.push(value);
    }
    else if (field === 'event') this.event = value;
    return undefined;
  }
}

/** Parses an SSE byte stream into events; throws SseLineTooLongError past `maxLine`. */
export async function* parseSse(stream: AsyncIterable<Uint8Array | string>, maxLine = DEFAULT_MAX_SSE_LINE): AsyncGenerator<SseEvent> {
  const parser = new SseParser(maxLine);
  for await (const chunk of stream) yield* parser.push(chunk);
  yield* parser.end();
}
