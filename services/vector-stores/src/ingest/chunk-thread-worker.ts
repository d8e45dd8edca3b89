import { parentPort } from 'node:worker_threads';
import { chunkText, type ChunkOptions, type TextChunk } from './chunk-tokens.js';
import type { ToWorker } from './chunk-thread.js';

// The worker side of chunk-thread.ts: runs the o200k chunker on text the main thread hands over on
// request (`pull`), and answers each `next` with the following chunks. One session (one file) at a
// time; messages carry the session number so late replies of an abandoned session are dropped.

const port = parentPort!;
let session = 0;
let chunks: AsyncGenerator<TextChunk> | undefined;
let waiting: ((text: string | null) => void) | undefined;

async function* pulled(id: number): AsyncGenerator<string> {
  for (;;) {
    const text = await new Promise<string | null>((resolve) => {
      waiting = resolve;
      port.postMessage({ t: 'pull', session: id });
    });
    if (text === null) return;
    yield text;
  }
}

async function next(id: number, max: number): Promise<void> {
  const out: TextChunk[] = [];
  // This session's generator: a later `start` replaces the module's, and must not be read from here.
  const gen = chunks!;
  try {
    while (out.length < max) {
      const r = await gen.next();
      if (id !== session) return;
      if (r.done) {
        port.postMessage({ t: 'chunks', session: id, chunks: out, done: true });
        return;
      }
      out.push(r.value);
    }
    port.postMessage({ t: 'chunks', session: id, chunks: out, done: false });
  } catch (err) {
    if (id === session) port.postMessage({ t: 'error', session: id, message: (err as Error).message, name: (err as Error).name });
  }
}

port.on('message', (msg: ToWorker) => {
  switch (msg.t) {
    case 'start':
      session = msg.session;
      waiting?.(null);
      waiting = undefined;
      chunks = chunkText(pulled(msg.session), msg.opts as ChunkOptions);
      break;
    case 'text':
    case 'end': {
      if (msg.session !== session) break;
      const resolve = waiting;
      waiting = undefined;
      resolve?.(msg.t === 'text' ? msg.text : null);
      break;
    }
    case 'next':
      if (msg.session === session) void next(msg.session, msg.max);
      break;
    case 'stop':
      if (msg.session !== session) break;
      session = -1;
      waiting?.(null);
      waiting = undefined;
      chunks = undefined;
      break;
  }
});

// Loading the tokenizer's tables takes a moment: the main thread waits for this before its first file.
await chunkText(['warm up'], { maxTokens: 100, overlapTokens: 0 }).next();
port.postMessage({ t: 'ready' });
