import { z } from 'zod';
import { validate } from '../../http/validate.js';
import { INCLUDE_VALUES, type IncludeValue } from '../include-values.js';

// The `include` filter of every item the Responses and Conversations APIs return (response output,
// input items, conversation items). What each value adds, as OpenAI documents it:
// - message.input_image.image_url: the image URLs of input messages (else `image_url: null`)
// - message.output_text.logprobs: the logprobs of assistant text (else `logprobs: []`)
// - reasoning.encrypted_content: the encrypted reasoning tokens (else the field is absent)
// - file_search_call.results: the search results (else `results: null`)
// - web_search_call.action.sources / web_search_call.results: the sources and results (else absent)
// - computer_call_output.output.image_url: the screenshot URL (else `image_url: null`)
// - code_interpreter_call.outputs: the code's outputs (else `outputs: null`)

/** Any returned item: an id, a type, and its fields. */
type Item = Record<string, unknown> & { type: string };

/** The include values asked for: a parsed set, or the validated list of a request. */
type Include = ReadonlySet<IncludeValue> | readonly string[];

function asSet(include: Include): ReadonlySet<string> {
  return include instanceof Set ? (include as ReadonlySet<string>) : new Set(include as readonly string[]);
}

const includeListSchema = z.array(z.enum(INCLUDE_VALUES));

/** Reads `include` / `include[]` from a parsed query string (one value or many). */
export function parseInclude(raw: unknown): Set<IncludeValue> {
  if (raw === undefined) return new Set();
  const list = Array.isArray(raw) ? raw : [raw];
  return new Set(validate(includeListSchema, list, 'include'));
}

/**
 * The item as returned to a caller who asked for `include`: every field that is only sent on request
 * is blanked (kept in the shape the spec requires) unless its include value was given. Stored items
 * are never changed, so asking again with `include` returns the full item.
 */
export function applyInclude<T extends { type: string }>(item: T, include: Include): T {
  return filterItem(item as unknown as Item, asSet(include)) as unknown as T;
}

/** applyInclude over a list. */
export function applyIncludeAll<T extends { type: string }>(items: readonly T[], include: Include): T[] {
  const asked = asSet(include);
  return items.map((item) => filterItem(item as unknown as Item, asked) as unknown as T);
}

/** A Response with `include` applied to its output items (the stored object is left as it is). */
export function applyIncludeToOutput<R extends { output: readonly { type: string }[] }>(response: R, include: Include | undefined): R {
  return { ...response, output: applyIncludeAll(response.output, include ?? []) };
}

function filterItem(item: Item, include: ReadonlySet<string>): Item {
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

function withMessageParts(item: Item, include: ReadonlySet<string>): Item {
  const keepImages = include.has('message.input_image.image_url');
  const keepLogprobs = include.has('message.output_text.logprobs');
  if ((keepImages && keepLogprobs) || !Array.isArray(item.content)) return item;
  const content = (item.content as Record<string, unknown>[]).map((part) => {
    if (part.type === 'input_image' && !keepImages && part.image_url != null) return { ...part, image_url: null };
    if (part.type === 'output_text' && !keepLogprobs && Array.isArray(part.logprobs) && part.logprobs.length) return { ...part, logprobs: [] };
    return part;
  });
  return { ...item, content };
}

function withoutSources(item: Item, include: ReadonlySet<string>): Item {
  let out = item;
  const action = item.action as Record<string, unknown> | undefined;
  if (action && 'sources' in action && !include.has('web_search_call.action.sources')) out = { ...out, action: omit(action, 'sources') };
  if ('results' in item && !include.has('web_search_call.results')) out = omit(out, 'results');
  return out;
}

function withoutScreenshotUrl(item: Item, include: ReadonlySet<string>): Item {
  const output = item.output as Record<string, unknown> | undefined;
  if (!output || output.image_url == null || include.has('computer_call_output.output.image_url')) return item;
  return { ...item, output: { ...output, image_url: null } };
}

function omit<T extends Record<string, unknown>>(obj: T, key: string): T {
  const { [key]: _dropped, ...rest } = obj;
  return rest as T;
}
