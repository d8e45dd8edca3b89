import { ApiError, nowSeconds, type InferenceClient, type Logger, type Principal } from '@rgw/shared';
import { completionAsChunks, type ChatChunk, type ChatCompletion, type ChatUsage } from '../chat/chat-chunk.js';
import { offeredChatTools, turnRequest, type ToolPlan } from '../chat/chat-request.js';
import type { ChatMessage } from '../chat/items-to-chat.js';
import { emptyUsage } from '../response/response-object.js';
import type { IncompleteReason, OutputMessageItem, ResponseObject, ResponseUsage, UnsequencedEvent } from '../wire/response-types.js';
import { ChunkAccumulator, type ServerToolCall, type TurnResult } from './chunk-accumulator.js';
import { contextTooLong, dropOldestMessage, isContextOverflow } from './context-window.js';
import { OutputBuilder, sameObject } from './output-builder.js';

export const DEFAULT_MAX_ITERATIONS = 10;

/** Everything needed to generate one response, decided before the first event. */
export interface RunPlan {
  /** The Response being built; its status is `queued` (background) or `in_progress`. */
  response: ResponseObject;
  /** The assembled context (context/context-assembly.ts). */
  messages: ChatMessage[];
  /** Upstream parameters besides messages and tools (chat/chat-request.ts chatParams + model). */
  params: Record<string, unknown> & { model: string };
  tools: ToolPlan;
  parallelToolCalls: boolean;
  maxToolCalls: number | null;
  truncation: 'auto' | 'disabled';
  logprobs: boolean;
  include: readonly string[];
  /** Whom the response acts for: server tools sign their calls to other services with it. */
  principal?: Principal;
}

export interface EngineDeps {
  inference: Pick<InferenceClient, 'chatCompletionStream'> & Partial<Pick<InferenceClient, 'chatCompletion'>>;
  log: Logger;
  maxIterations?: number;
}

export interface RunOptions {
  signal: AbortSignal;
  requestId?: string;
  /**
   * Rethrow an upstream failure that happens before any output item exists, instead of ending with
   * `response.failed`: lets a foreground request answer it as a plain HTTP error.
   */
  throwBeforeOutput: boolean;
  /**
   * False when the events are only collected for the final Response (non-streaming): they then
   * carry the live objects instead of copies (a response's snapshots and items are not cloned).
   */
  snapshots?: boolean;
  /**
   * False: each turn asks the model for its whole reply (`stream: false`) and reads it as one chunk,
   * for a response only collected (no SSE to parse, no per-token events nobody reads). The output is
   * the same; a client going away mid-turn then leaves that turn's output unwritten.
   */
  streamUpstream?: boolean;
}

/**
 * The one generator of a response's events (without sequence numbers; engine/sequence.ts adds them):
 * created, in_progress, then turn after turn against the model server — running server tools between
 * turns — and exactly one terminal event. Streaming writes these events, non-streaming collects them.
 * On abort it stops silently with the response `cancelled`.
 */
export async function* generateResponse(plan: RunPlan, deps: EngineDeps, opts: RunOptions): AsyncGenerator<UnsequencedEvent> {
  const response = plan.response;
  const snapshot = opts.snapshots === false ? sameObject : structuredClone;
  const out = new OutputBuilder(response, snapshot);
  const usage = emptyUsage();
  const messages = [...plan.messages];
  const maxIterations = deps.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  let toolCallsUsed = 0;
  // Shared by this response's server tool calls and text annotators (e.g. file_search's citation sources).
  const toolState = new Map<string, unknown>();
  const annotator = () => {
    for (const s of plan.tools.serverTools) {
      const a = s.tool.textAnnotator?.(toolState);
      if (a) return a;
    }
    return undefined;
  };
  let incomplete: IncompleteReason | undefined;

  yield { type: 'response.created', response: snapshot(response) };
  response.status = 'in_progress';
  yield { type: 'response.in_progress', response: snapshot(response) };

  try {
    for (let iteration = 0; ; iteration++) {
      if (iteration >= maxIterations) {
        incomplete = 'max_iterations_exceeded';
        break;
      }
      const serverToolsAllowed = plan.maxToolCalls === null || toolCallsUsed < plan.maxToolCalls;
      const firstIndex = out.output.length;
      const turn = new ChunkAccumulator(out, {
        isServerTool: (name) => serverToolsAllowed && plan.tools.serverTools.some((s) => s.offered.name === name),
        parallelToolCalls: plan.parallelToolCalls,
        logprobs: plan.logprobs,
        annotator,
      });
      for await (const chunk of turnChunks(plan, deps, opts, messages, serverToolsAllowed, toolCallsUsed > 0)) yield* turn.push(chunk);
      const { events, result } = turn.finish();
      yield* events;
      addUsage(usage, result.usage, messages, out.output.slice(firstIndex));

      if (result.finishReason === 'length') incomplete = 'max_output_tokens';
      else if (result.finishReason === 'content_filter') incomplete = 'content_filter';
      if (incomplete || result.serverCalls.length === 0) break;

      const budget = plan.maxToolCalls === null ? Infinity : plan.maxToolCalls - toolCallsUsed;
      const calls = result.serverCalls.slice(0, Math.max(0, budget));
      messages.push(assistantTurn(out, firstIndex, result, calls));
      for (const call of calls) {
        const content = yield* runServerTool(plan, deps, opts, out, call, toolState);
        toolCallsUsed++;
        messages.push({ role: 'tool', tool_call_id: call.callId, content });
      }
      // Function calls for the client end the response: the client answers them in the next request.
      if (result.clientCalls.length > 0) break;
    }
  } catch (err) {
    if (opts.signal.aborted) {
      response.status = 'cancelled';
      return;
    }
    if (opts.throwBeforeOutput && response.output.length === 0) throw err;
    deps.log.warn({ err: (err as Error).message, responseId: response.id }, 'response failed');
    const error = toResponseError(err);
    response.status = 'failed';
    response.error = error;
    response.usage = usage;
    // Only response.failed (it carries `error`): an `error` event before it would end the SDK's stream
    // helper early, and it would never see the terminal event.
    yield { type: 'response.failed', response: snapshot(response) };
    return;
  }

  response.usage = usage;
  if (incomplete) {
    response.status = 'incomplete';
    response.incomplete_details = { reason: incomplete };
    yield { type: 'response.incomplete', response: snapshot(response) };
  } else {
    response.status = 'completed';
    response.completed_at = nowSeconds();
    yield { type: 'response.completed', response: snapshot(response) };
  }
}

/**
 * One upstream call's chunks. Opening it waits for the first chunk, so a context overflow is
 * seen here and, with truncation `auto`, answered by dropping the oldest context and asking again.
 */
async function* turnChunks(plan: RunPlan, deps: EngineDeps, opts: RunOptions, messages: ChatMessage[], serverToolsAllowed: boolean, toolsRan: boolean): AsyncGenerator<ChatChunk> {
  // A forced tool choice ('required', or one tool) is met once a server tool ran: forcing it again
  // on the turn that reads the results would make the model call it turn after turn.
  const forced = plan.tools.toolChoice === 'required' || (typeof plan.tools.toolChoice === 'object' && plan.tools.toolChoice !== null);
  const tools = toolsRan && forced ? { ...plan.tools, toolChoice: 'auto' } : plan.tools;
  const body = turnRequest(plan.params, messages, offeredChatTools(plan.tools, serverToolsAllowed), tools, plan.parallelToolCalls);
  const call = { signal: opts.signal, requestId: opts.requestId };
  const whole = opts.streamUpstream === false && deps.inference.chatCompletion !== undefined;
  for (;;) {
    const stream = whole ? wholeReply(deps.inference, body, call) : deps.inference.chatCompletionStream<ChatChunk>(body, call);
    let first: IteratorResult<ChatChunk>;
    try {
      first = await stream.next();
    } catch (err) {
      if (!isContextOverflow(err)) throw err;
      if (plan.truncation !== 'auto' || !dropOldestMessage(messages)) throw contextTooLong(err as ApiError);
      deps.log.info({ responseId: plan.response.id, messages: messages.length }, 'context overflow: dropped the oldest context (truncation auto)');
      continue;
    }
    if (first.done) return;
    yield first.value;
    yield* stream;
    return;
  }
}

/** One turn asked without streaming, as the chunks of the same reply streamed. */
async function* wholeReply(inference: EngineDeps['inference'], body: Record<string, unknown> & { model: string }, call: { signal: AbortSignal; requestId?: string }): AsyncGenerator<ChatChunk> {
  // stream_options is only allowed with stream: true (OpenAI answers 400); usage comes with every whole reply.
  const { stream_options: _, ...whole } = body;
  yield* completionAsChunks(await inference.chatCompletion!<ChatCompletion>(whole as typeof body, call));
}

async function* runServerTool(plan: RunPlan, deps: EngineDeps, opts: RunOptions, out: OutputBuilder, call: ServerToolCall, state: Map<string, unknown>): AsyncGenerator<UnsequencedEvent, string> {
  const offered = plan.tools.serverTools.find((s) => s.offered.name === call.name)!;
  const exec = offered.tool.execute({
    entry: offered.entry,
    callId: call.callId,
    arguments: call.arguments,
    output: out,
    include: plan.include,
    signal: opts.signal,
    requestId: opts.requestId,
    principal: plan.principal,
    state,
    log: deps.log,
  });
  for (;;) {
    const step = await exec.next();
    if (step.done) return step.value.content;
    yield step.value;
  }
}

/** The assistant message that asked for the server tool calls, as the model must see it next turn. */
function assistantTurn(out: OutputBuilder, firstIndex: number, result: TurnResult, calls: ServerToolCall[]): ChatMessage {
  const text = out.output
    .slice(firstIndex)
    .filter((i): i is OutputMessageItem => i.type === 'message')
    .flatMap((m) => m.content.map((p) => (p.type === 'output_text' ? p.text : '')))
    .join('');
  const toolCalls = [
    ...result.clientCalls.map((c) => ({ id: c.call_id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })),
    ...calls.map((c) => ({ id: c.callId, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })),
  ];
  return { role: 'assistant', content: text || null, tool_calls: toolCalls };
}

/** Adds a turn's usage; when the server reports none, a rough estimate (4 characters a token) stands in. */
function addUsage(total: ResponseUsage, usage: ChatUsage | null, messages: ChatMessage[], produced: unknown[]): void {
  const input = usage?.prompt_tokens ?? Math.ceil(JSON.stringify(messages).length / 4);
  const output = usage?.completion_tokens ?? Math.ceil(JSON.stringify(produced).length / 4);
  total.input_tokens += input;
  total.output_tokens += output;
  total.input_tokens_details.cached_tokens += usage?.prompt_tokens_details?.cached_tokens ?? 0;
  total.input_tokens_details.cache_write_tokens += usage?.prompt_tokens_details?.cache_write_tokens ?? 0;
  total.output_tokens_details.reasoning_tokens += usage?.completion_tokens_details?.reasoning_tokens ?? 0;
  total.total_tokens = total.input_tokens + total.output_tokens;
}

function toResponseError(err: unknown): { code: string; message: string } {
  if (err instanceof ApiError) {
    const code = err.status === 429 ? 'rate_limit_exceeded' : err.status >= 400 && err.status < 500 ? 'invalid_prompt' : 'server_error';
    return { code, message: err.message };
  }
  return { code: 'server_error', message: 'The model server failed while generating the response.' };
}
