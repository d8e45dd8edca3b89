import { z } from 'zod';
import { InvalidRequestError, validate } from '@rgw/shared';

// Wire schemas of the items a conversation accepts (the spec's `InputItem`). The shapes we build on
// (messages, function calls and their outputs, reasoning, item references) are checked strictly, as
// OpenAI does; tool-call items of hosted tools are accepted by type so later features fit unchanged.

const itemId = z.string().regex(/^[\w-]{1,128}$/, 'Expected an ID made of letters, digits, "_" or "-" (at most 128).');
const status = z.enum(['in_progress', 'completed', 'incomplete']);

const inputText = z.strictObject({
  type: z.literal('input_text'),
  text: z.string(),
  prompt_cache_breakpoint: z.unknown().optional(),
});

const inputImage = z
  .strictObject({
    type: z.literal('input_image'),
    image_url: z.string().nullish(),
    file_id: z.string().nullish(),
    detail: z.enum(['low', 'high', 'auto', 'original']).optional(),
    prompt_cache_breakpoint: z.unknown().optional(),
  })
  .refine((p) => p.image_url || p.file_id, { message: 'An input_image needs an image_url or a file_id.', path: ['image_url'] });

const inputFile = z.strictObject({
  type: z.literal('input_file'),
  file_id: z.string().nullish(),
  filename: z.string().nullish(),
  file_data: z.string().nullish(),
  file_url: z.string().nullish(),
  detail: z.enum(['low', 'high', 'auto']).optional(),
  prompt_cache_breakpoint: z.unknown().optional(),
});

const inputAudio = z.strictObject({
  type: z.literal('input_audio'),
  input_audio: z.strictObject({ data: z.string(), format: z.enum(['mp3', 'wav']) }),
});

const outputText = z.strictObject({
  type: z.literal('output_text'),
  text: z.string(),
  annotations: z.array(z.looseObject({ type: z.string() })).optional(),
  logprobs: z.array(z.looseObject({ token: z.string(), logprob: z.number() })).nullish(),
});

const refusal = z.strictObject({ type: z.literal('refusal'), refusal: z.string() });

/** Content part schemas by type, in the order OpenAI lists them in its error messages. */
const INPUT_PARTS: Record<string, z.ZodType> = { input_text: inputText, input_image: inputImage, input_audio: inputAudio, input_file: inputFile };
const OUTPUT_PARTS: Record<string, z.ZodType> = { output_text: outputText, refusal };
const TOOL_OUTPUT_PARTS: Record<string, z.ZodType> = { input_text: inputText, input_image: inputImage, input_file: inputFile };

const message = z.strictObject({
  type: z.literal('message').optional(),
  id: itemId.nullish(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.unknown(),
  status: status.nullish(),
  phase: z.enum(['commentary', 'final_answer']).nullish(),
});

const functionCall = z.strictObject({
  type: z.literal('function_call'),
  id: itemId.nullish(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  namespace: z.string().optional(),
  caller: z.unknown().optional(),
  status: status.nullish(),
});

const functionCallOutput = z.strictObject({
  type: z.literal('function_call_output'),
  id: itemId.nullish(),
  call_id: z.string().min(1).max(64),
  output: z.unknown(),
  name: z.string().min(1).max(128).nullish(),
  namespace: z.string().min(1).max(64).nullish(),
  caller: z.unknown().optional(),
  status: status.nullish(),
});

const reasoning = z.strictObject({
  type: z.literal('reasoning'),
  id: itemId.nullish(),
  summary: z.array(z.strictObject({ type: z.literal('summary_text'), text: z.string() })),
  content: z.array(z.strictObject({ type: z.literal('reasoning_text'), text: z.string() })).optional(),
  encrypted_content: z.string().nullish(),
  status: status.nullish(),
});

const itemReference = z.strictObject({ type: z.literal('item_reference').nullish(), id: itemId });

/** Items of hosted tools: any fields, but a known type and, when given, a sane id. */
const looseItem = z.looseObject({ type: z.string(), id: itemId.nullish() });

export const LOOSE_ITEM_TYPES = [
  'file_search_call',
  'web_search_call',
  'computer_call',
  'computer_call_output',
  'image_generation_call',
  'code_interpreter_call',
  'local_shell_call',
  'local_shell_call_output',
  'shell_call',
  'shell_call_output',
  'apply_patch_call',
  'apply_patch_call_output',
  'mcp_list_tools',
  'mcp_approval_request',
  'mcp_approval_response',
  'mcp_call',
  'custom_tool_call',
  'custom_tool_call_output',
] as const;

const STRICT_ITEMS: Record<string, z.ZodType> = {
  message,
  function_call: functionCall,
  function_call_output: functionCallOutput,
  reasoning,
  item_reference: itemReference,
};

export const ITEM_TYPES: readonly string[] = [...Object.keys(STRICT_ITEMS), ...LOOSE_ITEM_TYPES];

/** The id prefix OpenAI requires of a caller-supplied id, for the item types where it checks one. */
const REQUIRED_ID_PREFIX: Record<string, string> = { message: 'msg', function_call: 'fc', reasoning: 'rs' };

/** An input item after validation: `type` is always set (messages and references may omit it on the wire). */
export type InputItem = Record<string, unknown> & { type: string; id?: string | null };

/** Validates one input item, naming the offending field under `param` (e.g. `items[0].content[1].text`). */
export function validateInputItem(raw: unknown, param: string): InputItem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidRequestError(`Invalid type for '${param}': expected an object, but got ${describe(raw)} instead.`, param, 'invalid_type');
  }
  const obj = raw as Record<string, unknown>;
  const type = obj.type ?? ('role' in obj ? 'message' : 'id' in obj ? 'item_reference' : undefined);
  if (type === undefined) throw new InvalidRequestError(`Missing required parameter: '${param}.type'.`, `${param}.type`, 'missing_required_parameter');
  if (typeof type !== 'string' || !ITEM_TYPES.includes(type)) {
    throw new InvalidRequestError(`Invalid value: '${String(type)}'. Supported values are: ${quoteList(ITEM_TYPES)}.`, `${param}.type`, 'invalid_value');
  }
  const schema = STRICT_ITEMS[type] ?? looseItem;
  const item = { ...(validate(schema, obj, param) as Record<string, unknown>), type } as InputItem;
  checkIdPrefix(item, param);
  if (type === 'message') item.content = validateMessageContent(item.content, item.role as string, `${param}.content`);
  if (type === 'function_call_output') item.output = validateToolOutput(item.output, `${param}.output`);
  return item;
}

/** Validates a list of at most `max` input items. */
export function validateInputItems(raw: unknown, param: string, max = 20): InputItem[] {
  if (!Array.isArray(raw)) {
    throw new InvalidRequestError(`Invalid type for '${param}': expected an array, but got ${describe(raw)} instead.`, param, 'invalid_type');
  }
  if (raw.length > max) {
    throw new InvalidRequestError(
      `Invalid '${param}': array too long. Expected an array with maximum length ${max}, but got an array with length ${raw.length} instead.`,
      param,
      'array_above_max_length',
    );
  }
  return raw.map((item, i) => validateInputItem(item, `${param}[${i}]`));
}

function checkIdPrefix(item: InputItem, param: string): void {
  const prefix = REQUIRED_ID_PREFIX[item.type];
  if (prefix && typeof item.id === 'string' && !item.id.startsWith(`${prefix}_`)) {
    throw new InvalidRequestError(`Invalid '${param}.id': '${item.id}'. Expected an ID that begins with '${prefix}'.`, `${param}.id`, 'invalid_value');
  }
}

/** Message content: a string, or a list of parts whose types depend on the role. */
function validateMessageContent(content: unknown, role: string, param: string): string | unknown[] {
  if (typeof content === 'string') return content;
  const parts = role === 'assistant' ? OUTPUT_PARTS : INPUT_PARTS;
  if (!Array.isArray(content)) {
    throw new InvalidRequestError(
      `Invalid type for '${param}': expected one of a string or array of ${role === 'assistant' ? 'output' : 'input'} content parts, but got ${describe(content)} instead.`,
      param,
      'invalid_type',
    );
  }
  return content.map((part, i) => validatePart(part, parts, `${param}[${i}]`));
}

function validateToolOutput(output: unknown, param: string): string | unknown[] {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) {
    throw new InvalidRequestError(`Invalid type for '${param}': expected one of a string or array of content parts, but got ${describe(output)} instead.`, param, 'invalid_type');
  }
  return output.map((part, i) => validatePart(part, TOOL_OUTPUT_PARTS, `${param}[${i}]`));
}

function validatePart(part: unknown, schemas: Record<string, z.ZodType>, param: string): unknown {
  if (typeof part !== 'object' || part === null || Array.isArray(part)) {
    throw new InvalidRequestError(`Invalid type for '${param}': expected an object, but got ${describe(part)} instead.`, param, 'invalid_type');
  }
  const type = (part as { type?: unknown }).type;
  const schema = typeof type === 'string' ? schemas[type] : undefined;
  if (!schema) {
    if (type === undefined) throw new InvalidRequestError(`Missing required parameter: '${param}.type'.`, `${param}.type`, 'missing_required_parameter');
    throw new InvalidRequestError(`Invalid value: '${String(type)}'. Supported values are: ${quoteList(Object.keys(schemas))}.`, `${param}.type`, 'invalid_value');
  }
  return validate(schema, part, param);
}

/** `'a', 'b', and 'c'` as OpenAI lists supported values. */
export function quoteList(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  if (quoted.length <= 2) return quoted.join(' and ');
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}
