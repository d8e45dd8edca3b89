import { z } from 'zod';
import { INCLUDE_VALUES, validate, type IncludeValue } from '@rgw/shared';
import type { ConversationItem } from './item-normalize.js';

const includeSchema = z.array(z.enum(INCLUDE_VALUES));

/** Reads `include` / `include[]` from a parsed query string (one value or many). */
export function parseInclude(raw: unknown): Set<IncludeValue> {
  if (raw === undefined) return new Set();
  const list = Array.isArray(raw) ? raw : [raw];
  return new Set(validate(includeSchema, list, 'include'));
}

/**
 * The item as returned to a caller who asked for `include`: every field that is only sent on request
 * is blanked (kept in the shape the spec requires) unless its include value was given. Stored items
 * are never changed, so asking again with `include` returns the full item.
 */
export function applyInclude(item: ConversationItem, include: ReadonlySet<IncludeValue>): ConversationItem {
  switch (item.type) {
    case 'message':
      return withMessageParts(item, include);
    case 'reasoning':
      if (include.has('reasoning.encrypted_content') || !('encrypted_content' in item)) return item;
      return omit(item, 'encrypted_content');
    case 'file_search_call':
      return include.has('file_search_call.results') || item.results == null ? item : { ...item, results: null };
    case 'web_search_call':
      return withoutSources(item, include);
    case 'code_interpreter_call':
      return include.has('code_interpreter_call.outputs') || item.outputs == null ? item : { ...item, outputs: null };
    case 'computer_call_output':
      return withoutScreenshotUrl(item, include);
    default:
      return item;
  }
}

function withMessageParts(item: ConversationItem, include: ReadonlySet<IncludeValue>): ConversationItem {
  const keepImages = include.has('message.input_image.image_url');
  const keepLogprobs = include.has('message.output_text.logprobs');
  if (keepImages && keepLogprobs) return item;
  const content = (item.content as Record<string, unknown>[]).map((part) => {
    if (part.type === 'input_image' && !keepImages && part.image_url != null) return { ...part, image_url: null };
    if (part.type === 'output_text' && !keepLogprobs && Array.isArray(part.logprobs) && part.logprobs.length) return { ...part, logprobs: [] };
    return part;
  });
  return { ...item, content };
}

function withoutSources(item: ConversationItem, include: ReadonlySet<IncludeValue>): ConversationItem {
  let out = item;
  const action = item.action as Record<string, unknown> | undefined;
  if (action && 'sources' in action && !include.has('web_search_call.action.sources')) out = { ...out, action: omit(action, 'sources') };
  if ('results' in item && !include.has('web_search_call.results')) out = omit(out, 'results');
  return out;
}

function withoutScreenshotUrl(item: ConversationItem, include: ReadonlySet<IncludeValue>): ConversationItem {
  const output = item.output as Record<string, unknown> | undefined;
  if (!output || output.image_url == null || include.has('computer_call_output.output.image_url')) return item;
  return { ...item, output: { ...output, image_url: null } };
}

function omit<T extends Record<string, unknown>>(obj: T, key: string): T {
  const { [key]: _dropped, ...rest } = obj;
  return rest as T;
}
