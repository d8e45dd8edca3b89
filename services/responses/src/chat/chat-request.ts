import { InvalidRequestError } from '@rgw/shared';
import type { OfferedFunction, ServerTool, ToolRegistry } from '../tools/tool-registry.js';
import type { CreateResponseBody } from '../wire/create-response-schema.js';
import type { ChatMessage } from './items-to-chat.js';

/** A chat tool as sent upstream. */
export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export interface OfferedServerTool {
  tool: ServerTool;
  entry: Record<string, unknown>;
  offered: OfferedFunction;
  /** Its position in the request's `tools` (errors name `tools[i]`). */
  toolIndex: number;
}

export interface ToolPlan {
  functionTools: ChatTool[];
  serverTools: OfferedServerTool[];
  /** Chat `tool_choice`, or undefined to leave the server's default. */
  toolChoice: unknown;
}

/** The fields of a request that only need to be checked and planned, shared with input_tokens. */
export type ToolFields = Pick<CreateResponseBody, 'tools' | 'tool_choice'>;

/**
 * Sampling and format parameters for the upstream call. Only what the client set is sent: model
 * servers apply their own (often per-model) defaults for everything left out.
 */
export function chatParams(body: Partial<CreateResponseBody>, include: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const copy = (from: keyof CreateResponseBody, to: string = from) => {
    const v = body[from];
    if (v !== undefined && v !== null) out[to] = v;
  };
  copy('temperature');
  copy('top_p');
  copy('presence_penalty');
  copy('frequency_penalty');
  copy('max_output_tokens', 'max_tokens');
  copy('user');
  copy('safety_identifier');
  copy('prompt_cache_key');
  if (body.service_tier && body.service_tier !== 'auto') out.service_tier = body.service_tier;
  if (body.reasoning?.effort) out.reasoning_effort = body.reasoning.effort;
  if (body.text?.verbosity) out.verbosity = body.text.verbosity;
  const format = body.text?.format;
  if (format?.type === 'json_object') out.response_format = { type: 'json_object' };
  if (format?.type === 'json_schema') {
    const json_schema: Record<string, unknown> = { name: format.name, schema: format.schema };
    if (format.description !== undefined) json_schema.description = format.description;
    if (format.strict !== undefined && format.strict !== null) json_schema.strict = format.strict;
    out.response_format = { type: 'json_schema', json_schema };
  }
  if (wantsLogprobs(body, include)) {
    out.logprobs = true;
    if (body.top_logprobs) out.top_logprobs = body.top_logprobs;
  }
  return out;
}

export function wantsLogprobs(body: Partial<CreateResponseBody>, include: readonly string[]): boolean {
  return (body.top_logprobs ?? 0) > 0 || include.includes('message.output_text.logprobs');
}

/**
 * Checks `tools` and `tool_choice` against each other and the registry, and plans what the model is
 * offered. `allowed_tools` narrows the offer itself (portable: few servers know that tool_choice).
 */
export function planTools(body: ToolFields, registry: ToolRegistry): ToolPlan {
  const functionTools: ChatTool[] = [];
  const serverTools: OfferedServerTool[] = [];
  const names = new Set<string>();
  for (const [i, raw] of (body.tools ?? []).entries()) {
    const entry = raw as Record<string, unknown>;
    if (entry.type === 'function') {
      const fn: ChatTool['function'] = { name: entry.name as string };
      if (typeof entry.description === 'string') fn.description = entry.description;
      fn.parameters = (entry.parameters as Record<string, unknown> | null | undefined) ?? { type: 'object', properties: {} };
      if (typeof entry.strict === 'boolean') fn.strict = entry.strict;
      if (names.has(fn.name)) throw new InvalidRequestError(`Duplicate tool name '${fn.name}'.`, `tools[${i}].name`, 'invalid_value');
      names.add(fn.name);
      functionTools.push({ type: 'function', function: fn });
      continue;
    }
    const tool = registry.get(String(entry.type));
    if (!tool) {
      throw new InvalidRequestError(`Tool type '${String(entry.type)}' is not supported.${registry.types.length ? ` Supported: function, ${registry.types.join(', ')}.` : ' Supported: function.'}`, `tools[${i}].type`, 'unsupported_value');
    }
    tool.validate?.(entry, `tools[${i}]`);
    const offered = tool.offer(entry);
    if (names.has(offered.name)) throw new InvalidRequestError(`Tool name '${offered.name}' is used twice.`, `tools[${i}]`, 'invalid_value');
    names.add(offered.name);
    serverTools.push({ tool, entry, offered, toolIndex: i });
  }
  return narrowByChoice({ functionTools, serverTools, toolChoice: undefined }, body.tool_choice);
}

function narrowByChoice(plan: ToolPlan, choice: ToolFields['tool_choice']): ToolPlan {
  if (choice === undefined || choice === null) return plan;
  if (choice === 'required' && plan.functionTools.length === 0 && plan.serverTools.length === 0) {
    throw new InvalidRequestError("Tool choice 'required' must be specified with 'tools' parameter.", 'tool_choice', 'invalid_value');
  }
  if (typeof choice === 'string') return { ...plan, toolChoice: choice };
  if (choice.type === 'function' && 'name' in choice && typeof choice.name === 'string') {
    const name = choice.name;
    if (!plan.functionTools.some((t) => t.function.name === name)) {
      throw new InvalidRequestError(`Tool choice '${name}' not found in 'tools' parameter.`, 'tool_choice', 'invalid_value');
    }
    return { ...plan, toolChoice: { type: 'function', function: { name } } };
  }
  if (choice.type === 'allowed_tools' && 'tools' in choice) {
    const allowed = choice.tools as { type: string; name?: string }[];
    const fnAllowed = (name: string) => allowed.some((a) => a.type === 'function' && a.name === name);
    const functionTools = plan.functionTools.filter((t) => fnAllowed(t.function.name));
    const serverTools = plan.serverTools.filter((s) => allowed.some((a) => a.type === s.tool.type));
    for (const [i, a] of allowed.entries()) {
      const known = a.type === 'function' ? plan.functionTools.some((t) => t.function.name === a.name) : plan.serverTools.some((s) => s.tool.type === a.type);
      if (!known) throw new InvalidRequestError(`Allowed tool ${a.type === 'function' ? `'${a.name}'` : `'${a.type}'`} is not in 'tools'.`, `tool_choice.tools[${i}]`, 'invalid_value');
    }
    return { functionTools, serverTools, toolChoice: (choice as { mode: string }).mode };
  }
  const server = plan.serverTools.find((s) => s.tool.type === choice.type);
  if (!server) throw new InvalidRequestError(`Tool choice '${choice.type}' not found in 'tools' parameter.`, 'tool_choice', 'invalid_value');
  return { ...plan, toolChoice: { type: 'function', function: { name: server.offered.name } } };
}

/** The chat `tools` for a turn: the client's functions plus the server tools still allowed. */
export function offeredChatTools(plan: ToolPlan, serverToolsAllowed: boolean): ChatTool[] {
  const server = serverToolsAllowed
    ? plan.serverTools.map((s): ChatTool => ({ type: 'function', function: { name: s.offered.name, ...(s.offered.description ? { description: s.offered.description } : {}), parameters: s.offered.parameters } }))
    : [];
  return [...plan.functionTools, ...server];
}

/** Parameters of one upstream request: model and sampling (see chatParams), messages, tools offered. */
type ChatRequest = Record<string, unknown> & { model: string };

/**
 * The body of one turn's upstream call. It always streams with usage, so streaming and
 * non-streaming responses share one path; `tool_choice` and `parallel_tool_calls` only go with tools.
 */
export function turnRequest(params: ChatRequest, messages: ChatMessage[], tools: ChatTool[], plan: ToolPlan, parallelToolCalls: boolean): ChatRequest {
  const body: ChatRequest = { ...params, messages, stream_options: { include_usage: true } };
  if (tools.length > 0) {
    body.tools = tools;
    if (plan.toolChoice !== undefined) body.tool_choice = plan.toolChoice;
    if (!parallelToolCalls) body.parallel_tool_calls = false;
  }
  return body;
}

/** The body that counts a context's input tokens: a one-token completion whose usage tells the count. */
export function countTokensRequest(model: string, messages: ChatMessage[], tools: ChatTool[], text: CreateResponseBody['text']): ChatRequest {
  const body: ChatRequest = { model, messages, max_tokens: 1, ...chatParams({ text: text ?? undefined }, []) };
  if (tools.length > 0) body.tools = tools;
  return body;
}
