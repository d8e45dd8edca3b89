import type { Logger, Principal } from '@rgw/shared';
import type { ItemMapper } from '../chat/items-to-chat.js';
import type { OutputBuilder } from '../engine/output-builder.js';
import type { UnsequencedEvent } from '../wire/response-types.js';

/** The function a server tool shows the model (Chat Completions `tools[].function`). */
export interface OfferedFunction {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

export interface ToolCallContext {
  /** The tool's entry from the request's `tools`, as the client sent it. */
  entry: Record<string, unknown>;
  callId: string;
  arguments: string;
  /** Adds the tool's own output items; the events it returns must be yielded in order. */
  output: OutputBuilder;
  /** The `include` values of the request (e.g. `file_search_call.results`). */
  include: readonly string[];
  signal: AbortSignal;
  requestId?: string;
  /** Whom the response acts for: signed on the tool's calls to other services. */
  principal?: Principal;
  /** Scratch space shared by every tool call (and text annotator) of one response, by key. */
  state: Map<string, unknown>;
  log: Logger;
}

/** An annotation to add to the output_text part being written (e.g. a file_citation). */
export type TextAnnotation = Record<string, unknown> & { type: string };

/**
 * Rewrites the model's text as it streams (e.g. cutting citation markers out): `push` returns the
 * text to append now and annotations whose positions are in the final text; `end` flushes.
 */
export interface TextAnnotator {
  push(delta: string): { text: string; annotations: TextAnnotation[] };
  end(): { text: string; annotations: TextAnnotation[] };
}

/**
 * A tool the gateway runs itself (file_search, ...). The engine offers `offer(entry)` to the model;
 * when the model calls that function, `execute` runs instead of handing a function_call to the
 * client. It yields the events of the output items it adds and returns what the model reads back.
 */
export interface ServerTool {
  /** The `type` of the tool in the request's `tools` (and of `tool_choice: {type}`). */
  type: string;
  /** Checks the request's entry for this tool; throws an InvalidRequestError naming `param`. */
  validate?(entry: Record<string, unknown>, param: string): void;
  /** Checks that need a lookup (e.g. the vector stores exist for the caller), before any byte streams. */
  check?(entry: Record<string, unknown>, param: string, caller: { requestId?: string; principal?: Principal }): Promise<void>;
  offer(entry: Record<string, unknown>): OfferedFunction;
  execute(ctx: ToolCallContext): AsyncGenerator<UnsequencedEvent, { content: string }>;
  /** How this tool's stored output items read back to the model in later turns. */
  itemTypes?: Record<string, ItemMapper>;
  /** A rewriter of the model's text for this response (given the response's tool state), if it needs one. */
  textAnnotator?(state: Map<string, unknown>): TextAnnotator | undefined;
}

/** The server tools this process knows, by type. */
export class ToolRegistry {
  private readonly tools = new Map<string, ServerTool>();

  constructor(tools: ServerTool[] = []) {
    for (const t of tools) this.register(t);
  }

  register(tool: ServerTool): void {
    if (tool.type === 'function') throw new Error('"function" tools are the client\'s; a server tool needs its own type');
    this.tools.set(tool.type, tool);
  }

  get(type: string): ServerTool | undefined {
    return this.tools.get(type);
  }

  get types(): string[] {
    return [...this.tools.keys()];
  }

  /** Mappers of every registered tool's item types, for replaying stored context. */
  itemMappers(): Map<string, ItemMapper> {
    const out = new Map<string, ItemMapper>();
    for (const t of this.tools.values()) for (const [type, mapper] of Object.entries(t.itemTypes ?? {})) out.set(type, mapper);
    return out;
  }
}
