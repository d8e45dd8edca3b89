/**
 * What we read from a Chat Completions stream chunk. Tolerant on purpose: every field is optional
 * and nullable, because model servers (vLLM, llama.cpp, Ollama, TGI, ...) differ in what they send.
 */
export interface ChatChunk {
  choices?: ChatChunkChoice[] | null;
  usage?: ChatUsage | null;
}

export interface ChatChunkChoice {
  index?: number | null;
  delta?: ChatDelta | null;
  finish_reason?: string | null;
  logprobs?: { content?: UpstreamLogprob[] | null } | null;
}

export interface ChatDelta {
  role?: string | null;
  content?: string | null;
  /** vLLM, DeepSeek and llama.cpp name it reasoning_content; newer vLLM and Ollama `reasoning`. */
  reasoning_content?: string | null;
  reasoning?: string | null;
  refusal?: string | null;
  tool_calls?: ChatToolCallDelta[] | null;
}

export interface ChatToolCallDelta {
  index?: number | null;
  id?: string | null;
  type?: string | null;
  function?: { name?: string | null; arguments?: string | null } | null;
}

export interface UpstreamLogprob {
  token?: string;
  logprob?: number;
  bytes?: number[] | null;
  top_logprobs?: { token?: string; logprob?: number; bytes?: number[] | null }[] | null;
}

export interface ChatUsage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  total_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null; cache_write_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/** What we read from a whole (non-streamed) chat completion: as tolerant as the chunks. */
export interface ChatCompletion {
  choices?: { index?: number | null; message?: (ChatDelta & { tool_calls?: ChatToolCallDelta[] | null }) | null; finish_reason?: string | null; logprobs?: ChatChunkChoice['logprobs'] }[] | null;
  usage?: ChatUsage | null;
}

/**
 * A whole chat completion as the chunks a stream of it would carry, so one accumulator turns both
 * into output: reasoning and refusal first (as servers stream them), then the content, the tool calls
 * (indexed in order), the finish reason and the usage.
 */
export function completionAsChunks(reply: ChatCompletion): ChatChunk[] {
  const choice = reply.choices?.find((c) => (c.index ?? 0) === 0);
  const usage = reply.usage ?? null;
  if (!choice) return [{ choices: [], usage }];
  const message = choice.message ?? {};
  const chunks: ChatChunk[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (reasoning || message.refusal) chunks.push({ choices: [{ index: 0, delta: { reasoning_content: reasoning, refusal: message.refusal } }] });
  const toolCalls = message.tool_calls?.map((tc, index) => ({ index, id: tc.id, type: tc.type, function: tc.function }));
  chunks.push({ choices: [{ index: 0, delta: { content: message.content, tool_calls: toolCalls }, finish_reason: choice.finish_reason ?? null, logprobs: choice.logprobs }], usage });
  return chunks;
}
