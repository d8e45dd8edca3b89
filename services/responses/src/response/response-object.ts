import type { ResolvedPrompt } from '../context/prompt-source.js';
import type { CreateResponseBody } from '../wire/create-response-schema.js';
import type { ResponseObject, ResponseStatus, ResponseUsage } from '../wire/response-types.js';

/** What the request's `conversation` and `prompt` resolved to (request/prepare-request.ts). */
export interface ContextEcho {
  conversationId?: string | null;
  prompt?: ResolvedPrompt | null;
}

/**
 * The Response object for a request, before any output: every field of the spec present, request
 * values echoed and defaults filled in the way OpenAI reports them. With a prompt, `instructions`
 * shows the messages it rendered into (the list form the spec allows) rather than the request's string.
 */
export function newResponseObject(id: string, body: CreateResponseBody, createdAt: number, status: ResponseStatus, echo: ContextEcho = {}): ResponseObject {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    background: body.background ?? false,
    completed_at: null,
    conversation: echo.conversationId ? { id: echo.conversationId } : null,
    error: null,
    incomplete_details: null,
    instructions: echo.prompt?.instructions ?? body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: body.max_tool_calls ?? null,
    model: body.model,
    moderation: null,
    output: [],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    prompt: echo.prompt?.echo ?? null,
    prompt_cache_key: body.prompt_cache_key ?? null,
    prompt_cache_retention: body.prompt_cache_retention ?? null,
    // Spec PromptCacheOptions: both fields, with the defaults the request may leave out.
    prompt_cache_options: body.prompt_cache_options ? { ttl: body.prompt_cache_options.ttl ?? '30m', mode: body.prompt_cache_options.mode ?? 'implicit' } : null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? body.reasoning?.generate_summary ?? null, context: body.reasoning?.context ?? null },
    safety_identifier: body.safety_identifier ?? null,
    service_tier: !body.service_tier || body.service_tier === 'auto' ? 'default' : body.service_tier === 'fast' ? 'priority' : body.service_tier,
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: body.text?.format ?? { type: 'text' }, verbosity: body.text?.verbosity ?? 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: (body.tools ?? []).map(echoTool),
    top_logprobs: body.top_logprobs ?? 0,
    top_p: body.top_p ?? 1,
    presence_penalty: body.presence_penalty ?? 0,
    frequency_penalty: body.frequency_penalty ?? 0,
    truncation: body.truncation ?? 'disabled',
    usage: null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

function echoTool(tool: Record<string, unknown>): Record<string, unknown> {
  if (tool.type !== 'function') return { ...tool };
  return {
    type: 'function',
    name: tool.name,
    description: tool.description ?? null,
    parameters: tool.parameters ?? null,
    strict: tool.strict ?? true,
  };
}

export function emptyUsage(): ResponseUsage {
  return { input_tokens: 0, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 };
}
