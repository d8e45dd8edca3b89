import { newId } from '@rgw/shared';
import type { ChatChunk, ChatToolCallDelta, ChatUsage, UpstreamLogprob } from '../chat/chat-chunk.js';
import type { FunctionCallItem, Logprob, UnsequencedEvent } from '../wire/response-types.js';
import type { TextAnnotator } from '../tools/tool-registry.js';
import type { OutputBuilder } from './output-builder.js';

export interface TurnOptions {
  /** True for names the tool registry runs itself: those calls are not shown as function_call items. */
  isServerTool: (name: string) => boolean;
  /** false keeps only the model's first tool call. */
  parallelToolCalls: boolean;
  /** Record logprobs on output_text parts. */
  logprobs: boolean;
  /** A rewriter for the text of each output_text part (citation markers → annotations), if any. */
  annotator?: () => TextAnnotator | undefined;
}

/** A call of a server-side tool, collected whole and run by the engine after the turn. */
export interface ServerToolCall {
  callId: string;
  name: string;
  arguments: string;
}

export interface TurnResult {
  finishReason: string | null;
  usage: ChatUsage | null;
  clientCalls: FunctionCallItem[];
  serverCalls: ServerToolCall[];
  /** Output items this turn added (message, reasoning, function calls). */
  itemCount: number;
}

interface CallState {
  callId: string;
  name: string;
  args: string;
  outputIndex?: number;
  dropped: boolean;
  /** arguments.done and output_item.done were sent (a later call began). */
  closed?: boolean;
}

/**
 * Turns one upstream chat stream into Responses output events, chunk by chunk. Pure state machine
 * over the deltas: reasoning text opens a `reasoning` item, content and refusals an assistant
 * `message` (one part each), tool calls `function_call` items; each is opened before its first delta
 * and closed when the next item starts or the turn ends, so items never overlap. Whatever the
 * length limit cut off ends `incomplete`.
 */
export class ChunkAccumulator {
  private reasoning?: { index: number; contentIndex: number };
  private message?: { index: number; part?: { contentIndex: number; kind: 'text' | 'refusal'; annotator?: TextAnnotator } };
  private readonly calls = new Map<number, CallState>();
  private lastCallKey = -1;
  private finishReason: string | null = null;
  private usage: ChatUsage | null = null;
  private items = 0;

  constructor(private readonly out: OutputBuilder, private readonly opts: TurnOptions) {}

  push(chunk: ChatChunk): UnsequencedEvent[] {
    const events: UnsequencedEvent[] = [];
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return events;
    const delta = choice.delta ?? {};
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning) this.reasoningDelta(reasoning, events);
    if (typeof delta.content === 'string' && delta.content) this.messageDelta('text', delta.content, this.logprobs(choice.logprobs?.content), events);
    if (typeof delta.refusal === 'string' && delta.refusal) this.messageDelta('refusal', delta.refusal, undefined, events);
    if (delta.tool_calls?.length) {
      this.closeReasoning(events);
      this.closeMessage('completed', events);
      for (const tc of delta.tool_calls) this.toolCallDelta(tc, events);
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return events;
  }

  /** Closes whatever is open; call once the upstream stream ended. */
  finish(): { events: UnsequencedEvent[]; result: TurnResult } {
    const events: UnsequencedEvent[] = [];
    const truncated = this.finishReason === 'length' || this.finishReason === 'content_filter';
    this.closeReasoning(events);
    if (this.items === 0 && this.calls.size === 0) this.messageDelta('text', '', undefined, events);
    this.closeMessage(truncated ? 'incomplete' : 'completed', events);
    const clientCalls: FunctionCallItem[] = [];
    const serverCalls: ServerToolCall[] = [];
    for (const call of this.calls.values()) {
      if (call.dropped) continue;
      if (this.opts.isServerTool(call.name)) {
        serverCalls.push({ callId: call.callId, name: call.name, arguments: call.args });
        continue;
      }
      if (call.outputIndex === undefined) {
        this.openCall(call, events);
        if (call.args) events.push(this.out.appendArguments(call.outputIndex!, call.args));
      }
      this.closeCall(call, truncated ? 'incomplete' : 'completed', events);
      clientCalls.push(this.out.output[call.outputIndex!] as FunctionCallItem);
    }
    return { events, result: { finishReason: this.finishReason, usage: this.usage, clientCalls, serverCalls, itemCount: this.items } };
  }

  private reasoningDelta(text: string, events: UnsequencedEvent[]): void {
    if (!this.reasoning) {
      this.closeMessage('completed', events);
      const added = this.out.addItem({ id: newId('reasoning'), type: 'reasoning', summary: [], content: [], status: 'in_progress' });
      this.items++;
      events.push(added.event);
      const part = this.out.addPart(added.index, { type: 'reasoning_text', text: '' });
      events.push(part.event);
      this.reasoning = { index: added.index, contentIndex: part.contentIndex };
    }
    events.push(this.out.appendText(this.reasoning.index, this.reasoning.contentIndex, text, undefined));
  }

  private closeReasoning(events: UnsequencedEvent[]): void {
    if (!this.reasoning) return;
    events.push(...this.out.doneParts(this.reasoning.index, this.reasoning.contentIndex));
    events.push(this.out.doneItem(this.reasoning.index, 'completed'));
    this.reasoning = undefined;
  }

  private messageDelta(kind: 'text' | 'refusal', text: string, logprobs: Logprob[] | undefined, events: UnsequencedEvent[]): void {
    this.closeReasoning(events);
    if (!this.message) {
      const added = this.out.addItem({ id: newId('message'), type: 'message', status: 'in_progress', role: 'assistant', content: [] });
      this.items++;
      events.push(added.event);
      this.message = { index: added.index };
    }
    const msg = this.message;
    if (msg.part && msg.part.kind !== kind) {
      this.flushAnnotator(msg.index, msg.part, events);
      events.push(...this.out.doneParts(msg.index, msg.part.contentIndex));
      msg.part = undefined;
    }
    if (!msg.part) {
      const part = this.out.addPart(msg.index, kind === 'text' ? { type: 'output_text', text: '', annotations: [], logprobs: [] } : { type: 'refusal', refusal: '' });
      events.push(part.event);
      msg.part = { contentIndex: part.contentIndex, kind, annotator: kind === 'text' ? this.opts.annotator?.() : undefined };
    }
    if (!text) return;
    if (!msg.part.annotator) {
      events.push(this.out.appendText(msg.index, msg.part.contentIndex, text, logprobs));
      return;
    }
    const { text: shown, annotations } = msg.part.annotator.push(text);
    if (shown) events.push(this.out.appendText(msg.index, msg.part.contentIndex, shown, logprobs));
    for (const a of annotations) events.push(this.out.addAnnotation(msg.index, msg.part.contentIndex, a));
  }

  /** Releases the text an annotator held back, and its last annotations, before the part closes. */
  private flushAnnotator(index: number, part: { contentIndex: number; annotator?: TextAnnotator }, events: UnsequencedEvent[]): void {
    if (!part.annotator) return;
    const { text, annotations } = part.annotator.end();
    if (text) events.push(this.out.appendText(index, part.contentIndex, text, undefined));
    for (const a of annotations) events.push(this.out.addAnnotation(index, part.contentIndex, a));
  }

  private closeMessage(status: 'completed' | 'incomplete', events: UnsequencedEvent[]): void {
    const msg = this.message;
    if (!msg) return;
    if (msg.part) {
      this.flushAnnotator(msg.index, msg.part, events);
      events.push(...this.out.doneParts(msg.index, msg.part.contentIndex));
    }
    events.push(this.out.doneItem(msg.index, status));
    this.message = undefined;
  }

  private toolCallDelta(tc: ChatToolCallDelta, events: UnsequencedEvent[]): void {
    // Servers that omit `index` send one call per id; a delta without either continues the last call.
    let key = tc.index ?? -1;
    if (key < 0) key = tc.id ? ([...this.calls.entries()].find(([, c]) => c.callId === tc.id)?.[0] ?? this.calls.size) : Math.max(this.lastCallKey, 0);
    this.lastCallKey = key;
    let call = this.calls.get(key);
    if (!call) {
      // A new call begins: the one before it is complete.
      for (const open of this.calls.values()) if (open.outputIndex !== undefined) this.closeCall(open, 'completed', events);
      const dropped = !this.opts.parallelToolCalls && [...this.calls.values()].some((c) => !c.dropped);
      call = { callId: tc.id || `call_${newId('functionCall').slice(3, 27)}`, name: '', args: '', dropped };
      this.calls.set(key, call);
    }
    if (tc.function?.name) call.name += tc.function.name;
    const args = tc.function?.arguments ?? '';
    if (call.dropped) return;
    if (call.outputIndex === undefined && call.name && !this.opts.isServerTool(call.name)) {
      this.openCall(call, events);
      // Arguments that arrived before the name are replayed as the first delta.
      if (call.args) events.push(this.out.appendArguments(call.outputIndex!, call.args));
      call.args = '';
    }
    if (call.outputIndex !== undefined) {
      if (args) events.push(this.out.appendArguments(call.outputIndex, args));
      call.args = (this.out.output[call.outputIndex] as FunctionCallItem).arguments;
    } else {
      call.args += args;
    }
  }

  private closeCall(call: CallState, status: 'completed' | 'incomplete', events: UnsequencedEvent[]): void {
    if (call.closed || call.outputIndex === undefined) return;
    call.closed = true;
    events.push(this.out.doneArguments(call.outputIndex));
    events.push(this.out.doneItem(call.outputIndex, status));
  }

  private openCall(call: CallState, events: UnsequencedEvent[]): void {
    const added = this.out.addItem({ id: newId('functionCall'), type: 'function_call', status: 'in_progress', arguments: '', call_id: call.callId, name: call.name });
    this.items++;
    call.outputIndex = added.index;
    events.push(added.event);
  }

  private logprobs(content: UpstreamLogprob[] | null | undefined): Logprob[] | undefined {
    if (!this.opts.logprobs || !content?.length) return undefined;
    return content.map((lp) => ({
      token: lp.token ?? '',
      logprob: lp.logprob ?? 0,
      bytes: lp.bytes ?? [...Buffer.from(lp.token ?? '', 'utf8')],
      top_logprobs: (lp.top_logprobs ?? []).map((t) => ({ token: t.token ?? '', logprob: t.logprob ?? 0, bytes: t.bytes ?? [...Buffer.from(t.token ?? '', 'utf8')] })),
    }));
  }
}
