/**
 * The OpenAI Responses wire objects as we emit them (components/schemas/Response, OutputItem,
 * ResponseStreamEvent in the OpenAI spec). Only the shapes we produce are typed; items passed back
 * by clients travel as `ResponseItem` with whatever fields the schema let through.
 */
import type { StoredItem } from '@rgw/shared';

export type ResponseStatus = 'completed' | 'failed' | 'in_progress' | 'cancelled' | 'queued' | 'incomplete';
export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export const TERMINAL_STATUSES: readonly ResponseStatus[] = ['completed', 'failed', 'incomplete', 'cancelled'];

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface Logprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs: Logprob[];
}

export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}

export interface ReasoningTextPart {
  type: 'reasoning_text';
  text: string;
}

export interface OutputMessageItem {
  id: string;
  type: 'message';
  status: ItemStatus;
  role: 'assistant';
  content: (OutputTextPart | RefusalPart)[];
  /** Spec MessagePhase: set on messages passed back with one; kept as given. */
  phase?: 'commentary' | 'final_answer';
}

export interface FunctionCallItem {
  id: string;
  type: 'function_call';
  status: ItemStatus;
  arguments: string;
  call_id: string;
  name: string;
}

export interface ReasoningItem {
  id: string;
  type: 'reasoning';
  status?: ItemStatus;
  summary: { type: 'summary_text'; text: string }[];
  content?: ReasoningTextPart[];
  encrypted_content?: string | null;
}

/**
 * Any item of a response's input or output, as stored and listed (always with an `id`): the shared
 * item model's stored form (shared/src/wire/items), the same the Conversations service stores.
 */
export type ResponseItem = StoredItem;

export type OutputItem = OutputMessageItem | FunctionCallItem | ReasoningItem | ResponseItem;

export interface ResponseUsage {
  input_tokens: number;
  /** Both required by the spec's ResponseUsage; servers that report no cache writes give 0. */
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseErrorObject {
  code: string;
  message: string;
}

/** A message of `instructions` in its list form: what a stored `prompt` (and `instructions` with it) contributed. */
export interface InstructionMessage {
  type: 'message';
  role: 'developer' | 'user';
  content: Record<string, unknown>[];
}

/** Response.prompt: the stored prompt used, with the version that was rendered (as a string, as the spec types it). */
export interface ResponsePrompt {
  id: string;
  version: string;
  variables: Record<string, unknown> | null;
}

export type IncompleteReason = 'max_output_tokens' | 'content_filter' | 'max_iterations_exceeded';

/** The Response object: every field of the spec's `Response`, plus Open Responses' penalties. */
export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  background: boolean;
  completed_at: number | null;
  conversation: { id: string } | null;
  error: ResponseErrorObject | null;
  incomplete_details: { reason: IncompleteReason } | null;
  instructions: string | InstructionMessage[] | null;
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  model: string;
  moderation: null;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  prompt: ResponsePrompt | null;
  prompt_cache_key: string | null;
  prompt_cache_retention: string | null;
  prompt_cache_options: { ttl: string; mode: string } | null;
  reasoning: { effort: string | null; summary: string | null; context: string | null };
  safety_identifier: string | null;
  service_tier: string;
  store: boolean;
  temperature: number;
  text: { format: Record<string, unknown>; verbosity: string };
  tool_choice: unknown;
  tools: Record<string, unknown>[];
  top_logprobs: number;
  top_p: number;
  presence_penalty: number;
  frequency_penalty: number;
  truncation: 'auto' | 'disabled';
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
}

/** A stream event before `sequence_number` is stamped on it (engine/sequence.ts does that, once). */
export interface UnsequencedEvent {
  type: string;
  [key: string]: unknown;
}

export type ResponseStreamEvent = UnsequencedEvent & { sequence_number: number };

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(['response.completed', 'response.incomplete', 'response.failed']);
