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
