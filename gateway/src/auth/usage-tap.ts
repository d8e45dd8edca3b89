export interface TokenCount {
  input_tokens: number;
  output_tokens: number;
}

/** How much of a reply is looked at: all of a plain JSON body up to this, the tail of a stream. */
const MAX_BODY = 1024 * 1024;
const STREAM_TAIL = 16 * 1024;

/**
 * Watches a model server's reply go by (the relay is untouched: the chunks are only looked at) and
 * finds its `usage` at the end: the body of a plain reply, or the final usage chunk of a stream (sent
 * when the request asked `stream_options.include_usage`), which is near the end of the stream.
 */
export class UsageTap {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly stream: boolean) {}

  push(chunk: Buffer): void {
    if (!this.stream) {
      if (this.size + chunk.length > MAX_BODY) return;
      this.chunks.push(chunk);
      this.size += chunk.length;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= STREAM_TAIL) this.size -= this.chunks.shift()!.length;
  }

  /** The usage the reply reported, or undefined when it had none. */
  result(): TokenCount | undefined {
    return parseUsage(Buffer.concat(this.chunks, this.size).toString('utf8'));
  }
}

/** The last `"usage": {...}` object in `text`, read as chat (prompt/completion) or responses (input/output) tokens. */
export function parseUsage(text: string): TokenCount | undefined {
  let at = text.length;
  while ((at = text.lastIndexOf('"usage"', at - 1)) !== -1) {
    const open = text.indexOf('{', at);
    const between = text.slice(at + 7, open);
    if (open === -1 || !/^\s*:\s*$/.test(between)) continue;
    const end = matchingBrace(text, open);
    if (end === -1) continue;
    try {
      const usage = JSON.parse(text.slice(open, end + 1)) as Record<string, unknown>;
      const input = num(usage.prompt_tokens ?? usage.input_tokens);
      const output = num(usage.completion_tokens ?? usage.output_tokens);
      if (input === undefined && output === undefined) continue;
      return { input_tokens: input ?? 0, output_tokens: output ?? 0 };
    } catch {
      continue;
    }
  }
  return undefined;
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123) depth++;
    else if (c === 125 && --depth === 0) return i;
  }
  return -1;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
}
