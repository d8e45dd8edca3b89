import { InvalidRequestError, newId, paramPath, type IdKind } from '@rgw/shared';
import type { z } from 'zod';
import { inputItemSchema, type ContentPart, type InputItem } from '../wire/input-item-schema.js';
import type { ResponseItem } from '../wire/response-types.js';

/** An input entry after validation: a stored-shape item, or a reference the store must resolve. */
export type NormalizedInput = { kind: 'item'; item: ResponseItem } | { kind: 'reference'; id: string; index: number };

/**
 * Validates `input` item by item (errors name `input[i].field`) and turns each into the shape we
 * store and list: every item gets an id (its own when the client sent one) and a status.
 */
export function normalizeInput(input: string | unknown[] | null | undefined): NormalizedInput[] {
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') return [{ kind: 'item', item: userText(input) }];
  return input.map((raw, index) => {
    const item = parseItem(raw, index);
    if (item.type === 'item_reference') return { kind: 'reference', id: item.id, index };
    return { kind: 'item', item: toStoredItem(item) };
  });
}

export function userText(text: string): ResponseItem {
  return { id: newId('message'), type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_text', text }] };
}

function toStoredItem(item: Exclude<InputItem, { type: 'item_reference' }>): ResponseItem {
  switch (item.type) {
    case 'message': {
      const assistant = item.role === 'assistant';
      const content =
        typeof item.content === 'string'
          ? [assistant ? { type: 'output_text', text: item.content, annotations: [], logprobs: [] } : { type: 'input_text', text: item.content }]
          : item.content.map(normalizePart);
      return { id: item.id ?? newId('message'), type: 'message', status: item.status ?? 'completed', role: item.role, content };
    }
    case 'function_call':
      return stored(item, 'functionCall', { arguments: item.arguments, call_id: item.call_id, name: item.name });
    case 'function_call_output':
      return stored(item, 'functionCallOutput', { call_id: item.call_id, output: typeof item.output === 'string' ? item.output : item.output.map(normalizePart) });
    case 'reasoning': {
      const r = item as Record<string, unknown>;
      return { ...r, id: typeof r.id === 'string' && r.id ? r.id : newId('reasoning'), type: 'reasoning', summary: Array.isArray(r.summary) ? r.summary : [] };
    }
  }
}

/** A tool item as stored: its own id (else a new one), its type, its status (else completed), then its fields. */
function stored(item: { type: string; id?: string | null; status?: string | null }, kind: IdKind, fields: Record<string, unknown>): ResponseItem {
  return { id: item.id ?? newId(kind), type: item.type, status: item.status ?? 'completed', ...fields };
}

function normalizePart(part: ContentPart): Record<string, unknown> {
  switch (part.type) {
    case 'input_image':
      return { type: 'input_image', image_url: part.image_url ?? null, file_id: part.file_id ?? null, detail: part.detail ?? 'auto' };
    case 'output_text':
      return { type: 'output_text', text: part.text, annotations: part.annotations ?? [], logprobs: part.logprobs ?? [] };
    case 'input_file': {
      const out: Record<string, unknown> = { type: 'input_file', file_id: part.file_id ?? null };
      if (part.filename !== undefined) out.filename = part.filename;
      if (part.file_data !== undefined) out.file_data = part.file_data;
      if (part.file_url !== undefined) out.file_url = part.file_url;
      return out;
    }
    case 'input_text':
      return { type: 'input_text', text: part.text };
    case 'refusal':
      return { type: 'refusal', refusal: part.refusal };
  }
}

/**
 * Like shared validate(), but looks inside union failures (message content is string | parts[]) for
 * the most specific problem, so a bad part is reported as `input[0].content[1].text`.
 */
function parseItem(raw: unknown, index: number): InputItem {
  const result = inputItemSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = deepestIssue(result.error.issues);
  const param = paramPath(['input', index, ...issue.path]) ?? `input[${index}]`;
  throw new InvalidRequestError(`Invalid '${param}': ${issue.message}`, param, 'invalid_value');
}

function deepestIssue(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[] = []): { path: PropertyKey[]; message: string } {
  let best: { path: PropertyKey[]; message: string } | undefined;
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    let candidate = { path, message: issue.message };
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // The option that got furthest before failing is the one the client meant.
      for (const option of issue.errors) {
        const inner = deepestIssue(option, path);
        if (inner.path.length > candidate.path.length) candidate = inner;
      }
    }
    if (!best || candidate.path.length > best.path.length) best = candidate;
  }
  return best ?? { path: prefix, message: 'Invalid input' };
}
