import { newId, type IdKind } from '../../ids.js';
import type { InputItem } from './item-schema.js';

/** An item as stored and returned: always an `id` and a `type`, the rest as the spec shapes it. */
export type StoredItem = Record<string, unknown> & { id: string; type: string };

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

/**
 * Types whose returned form (the spec's *Resource) always carries a status: `completed` when the
 * caller gave none. Hosted-tool calls require their status on input already.
 */
const DEFAULT_COMPLETED = new Set(['message', 'function_call', 'function_call_output', 'computer_call_output', 'custom_tool_call_output']);

/** Types whose optional fields are dropped when null (the shape the API returns them in). */
const DROP_NULL_FIELDS = new Set(['message', 'function_call', 'function_call_output', 'reasoning', 'custom_tool_call', 'custom_tool_call_output', 'mcp_approval_response']);

export function mintItemId(type: string): string {
  return newId(ID_KIND[type] ?? 'conversationItem');
}

/**
 * The stored form of a validated input item (not an item_reference, which the caller resolves first):
 * the caller's id or one minted by type, string message content expanded into one text part
 * (`output_text` for the assistant, `input_text` otherwise), and the defaults the API returns filled
 * in. Both services store exactly this, so an item reads back the same from either.
 */
export function toStoredItem(input: InputItem): StoredItem {
  const id = typeof input.id === 'string' ? input.id : mintItemId(input.type);
  const fields = DROP_NULL_FIELDS.has(input.type) ? dropNullish(input) : dropUndefined(input);
  const item: StoredItem = { ...fields, id, type: input.type };
  if (DEFAULT_COMPLETED.has(input.type)) item.status = input.status ?? 'completed';
  else if (input.status == null) delete item.status;
  if (input.type === 'message') return normalizeMessage(item);
  if (input.type === 'function_call_output' || input.type === 'custom_tool_call_output') {
    if (Array.isArray(item.output)) item.output = (item.output as Record<string, unknown>[]).map(normalizePart);
  }
  return item;
}

/** A message in the key order the API returns: id, type, status, role, content (then phase). */
function normalizeMessage(item: StoredItem): StoredItem {
  const role = item.role as string;
  const raw = item.content as string | Record<string, unknown>[];
  const parts = typeof raw === 'string' ? [role === 'assistant' ? { type: 'output_text', text: raw } : { type: 'input_text', text: raw }] : raw;
  const out: StoredItem = { id: item.id, type: 'message', status: item.status, role, content: parts.map(normalizePart) };
  if (item.phase != null) out.phase = item.phase;
  return out;
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

function dropUndefined<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** A copy of a referenced item, under a fresh id of its type (a conversation's `item_reference`). */
export function copyReferencedItem<T extends StoredItem>(item: T): T {
  return { ...item, id: mintItemId(item.type) };
}
