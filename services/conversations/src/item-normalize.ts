import { newId, type IdKind } from '@rgw/shared';
import type { InputItem } from './item-schema.js';

/** An item as stored and returned: always an `id` and a `type`, the rest as the spec shapes it. */
export type ConversationItem = Record<string, unknown> & { id: string; type: string };

/** Which id kind each item type mints when the caller gave none. */
const ID_KIND: Record<string, IdKind> = {
  message: 'message',
  function_call: 'functionCall',
  function_call_output: 'functionCallOutput',
  reasoning: 'reasoning',
  file_search_call: 'fileSearchCall',
  web_search_call: 'webSearchCall',
  computer_call: 'computerCall',
  computer_call_output: 'computerCallOutput',
  image_generation_call: 'imageGenerationCall',
  code_interpreter_call: 'codeInterpreterCall',
  local_shell_call: 'localShellCall',
  local_shell_call_output: 'localShellCallOutput',
  shell_call: 'shellCall',
  shell_call_output: 'shellCallOutput',
  apply_patch_call: 'applyPatchCall',
  apply_patch_call_output: 'applyPatchCallOutput',
  mcp_list_tools: 'mcpListTools',
  mcp_approval_request: 'mcpApprovalRequest',
  mcp_approval_response: 'mcpApprovalResponse',
  mcp_call: 'mcpCall',
  custom_tool_call: 'customToolCall',
  custom_tool_call_output: 'customToolCallOutput',
};

export function mintItemId(type: string): string {
  return newId(ID_KIND[type] ?? 'conversationItem');
}

/**
 * The stored form of a validated input item (not an item_reference, which the caller resolves first):
 * an id minted by type when none was given, string message content expanded into one text part
 * (`output_text` for the assistant, `input_text` otherwise), and the defaults the API returns filled in.
 */
export function toStoredItem(input: InputItem): ConversationItem {
  const id = typeof input.id === 'string' ? input.id : mintItemId(input.type);
  switch (input.type) {
    case 'message':
      return normalizeMessage(input, id);
    case 'function_call':
    case 'function_call_output':
      return { ...dropNullish(input), id, type: input.type, status: input.status ?? 'completed' };
    default:
      return { ...dropNullish(input), id, type: input.type };
  }
}

function normalizeMessage(input: InputItem, id: string): ConversationItem {
  const role = input.role as string;
  const assistant = role === 'assistant';
  const raw = input.content as string | Record<string, unknown>[];
  const parts = typeof raw === 'string' ? [{ type: assistant ? 'output_text' : 'input_text', text: raw }] : raw;
  const item: ConversationItem = {
    id,
    type: 'message',
    status: (input.status as string | undefined) ?? 'completed',
    role,
    content: parts.map(normalizePart),
  };
  if (input.phase != null) item.phase = input.phase;
  return item;
}

function normalizePart(part: Record<string, unknown>): Record<string, unknown> {
  switch (part.type) {
    case 'output_text':
      return { ...part, annotations: part.annotations ?? [], logprobs: part.logprobs ?? [] };
    case 'input_image':
      return { ...part, image_url: part.image_url ?? null, file_id: part.file_id ?? null, detail: part.detail ?? 'auto' };
    case 'input_file':
      return dropNullish(part);
    default:
      return part;
  }
}

function dropNullish<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null && v !== undefined)) as T;
}

/** A copy of a referenced item, under a fresh id, for an `item_reference` input. */
export function copyReferencedItem(item: ConversationItem): ConversationItem {
  return { ...item, id: mintItemId(item.type) };
}
