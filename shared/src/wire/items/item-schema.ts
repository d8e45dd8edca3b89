import { z } from 'zod';
import { InvalidRequestError } from '../../errors.js';
import { validate } from '../../http/validate.js';
import { ASSISTANT_PARTS, INPUT_PARTS, OUTPUT_PARTS, TOOL_OUTPUT_PARTS } from './item-parts.js';

// The one item model of the Responses and Conversations APIs: every item type a client may send
// (spec: InputItem = EasyInputMessage | Item | ItemReferenceParam) and every one we store and return
// (ItemResource, OutputItem, ConversationItem), checked field by field as the spec types them.
// Deliberate leniencies, shared by both services so they can never disagree:
// - `id` may be omitted on every item (one is minted by type, see item-normalize.ts), and a given id
//   is kept whatever its prefix, provided it is URL-safe (it appears in item paths);
// - nested objects the spec types in depth (tool actions, search results, safety checks) are checked
//   for their discriminating `type` only, so a tool's newer fields do not break replay.

/** A caller-supplied item id: letters, digits, `_` and `-` (it travels in URL paths), at most 128. */
export const itemIdSchema = z.string().regex(/^[\w-]{1,128}$/, 'Expected an ID made of letters, digits, "_" or "-" (at most 128).');

const id = itemIdSchema.nullish();
const callId = z.string().min(1);
const itemStatus = z.enum(['in_progress', 'completed', 'incomplete']);
const caller = z.looseObject({ type: z.string() }).nullish();
const loose = z.looseObject({});
const typed = z.looseObject({ type: z.string() });

/** Message content: a string or parts; which parts a role takes is checked in validateInputItem (for precise params). */
const messageContent = z.union([z.string(), z.array(z.union(Object.values(ASSISTANT_PARTS) as [z.ZodType, z.ZodType, ...z.ZodType[]]))]);
/** Spec: a function output string is at most 10 MiB. */
const toolOutput = z.union([z.string().max(10_485_760), z.array(z.union(Object.values(TOOL_OUTPUT_PARTS) as [z.ZodType, z.ZodType, ...z.ZodType[]]))]);

/** Every item schema by type. `message` and `item_reference` may omit `type` on the wire (validateInputItem fills it). */
export const ITEM_SCHEMAS = {
  message: z.strictObject({
    type: z.literal('message'),
    id,
    role: z.enum(['user', 'assistant', 'system', 'developer']),
    content: messageContent,
    status: itemStatus.nullish(),
    phase: z.enum(['commentary', 'final_answer']).nullish(),
  }),
  function_call: z.strictObject({
    type: z.literal('function_call'),
    id,
    call_id: callId,
    name: z.string().min(1),
    arguments: z.string(),
    namespace: z.string().nullish(),
    caller,
    status: itemStatus.nullish(),
  }),
  function_call_output: z.strictObject({
    type: z.literal('function_call_output'),
    id,
    call_id: callId.max(64),
    output: toolOutput,
    name: z.string().min(1).max(128).nullish(),
    namespace: z.string().min(1).max(64).nullish(),
    caller,
    status: itemStatus.nullish(),
  }),
  reasoning: z.strictObject({
    type: z.literal('reasoning'),
    id,
    summary: z.array(z.strictObject({ type: z.literal('summary_text'), text: z.string() })),
    content: z.array(z.strictObject({ type: z.literal('reasoning_text'), text: z.string() })).nullish(),
    encrypted_content: z.string().nullish(),
    status: itemStatus.nullish(),
  }),
  item_reference: z.strictObject({ type: z.literal('item_reference'), id: itemIdSchema }),
  file_search_call: z.strictObject({
    type: z.literal('file_search_call'),
    id,
    status: z.enum(['in_progress', 'searching', 'completed', 'incomplete', 'failed']),
    queries: z.array(z.string()),
    results: z.array(loose).nullish(),
  }),
  web_search_call: z.strictObject({
    type: z.literal('web_search_call'),
    id,
    status: z.enum(['in_progress', 'searching', 'completed', 'failed']),
    action: z.looseObject({ type: z.enum(['search', 'open_page', 'find', 'find_in_page']), sources: z.array(typed).optional() }),
    results: z.array(loose).nullish(),
  }),
  computer_call: z.strictObject({
    type: z.literal('computer_call'),
    id,
    call_id: callId,
    action: typed.optional(),
    actions: z.array(typed).optional(),
    pending_safety_checks: z.array(loose),
    status: itemStatus,
  }),
  computer_call_output: z.strictObject({
    type: z.literal('computer_call_output'),
    id,
    call_id: callId,
    output: z.strictObject({ type: z.literal('computer_screenshot'), image_url: z.string().nullish(), file_id: z.string().nullish() }),
    acknowledged_safety_checks: z.array(loose).nullish(),
    status: z.enum(['in_progress', 'completed', 'incomplete', 'failed']).nullish(),
  }),
  image_generation_call: z.strictObject({
    type: z.literal('image_generation_call'),
    id,
    status: z.enum(['in_progress', 'completed', 'generating', 'failed']),
    result: z.string().nullable(),
  }),
  code_interpreter_call: z.strictObject({
    type: z.literal('code_interpreter_call'),
    id,
    status: z.enum(['in_progress', 'completed', 'incomplete', 'interpreting', 'failed']),
    container_id: z.string(),
    code: z.string().nullable(),
    outputs: z.array(z.looseObject({ type: z.enum(['logs', 'image']) })).nullable(),
  }),
  local_shell_call: z.strictObject({ type: z.literal('local_shell_call'), id, call_id: callId, action: typed, status: itemStatus }),
  local_shell_call_output: z.strictObject({ type: z.literal('local_shell_call_output'), id, call_id: callId.optional(), output: z.string(), status: itemStatus.nullish() }),
  shell_call: z.strictObject({
    type: z.literal('shell_call'),
    id,
    call_id: callId,
    caller,
    action: loose,
    status: itemStatus.nullish(),
    environment: typed.nullish(),
  }),
  shell_call_output: z.strictObject({
    type: z.literal('shell_call_output'),
    id,
    call_id: callId,
    caller,
    output: z.array(loose),
    status: itemStatus.nullish(),
    max_output_length: z.number().int().nullish(),
  }),
  apply_patch_call: z.strictObject({
    type: z.literal('apply_patch_call'),
    id,
    call_id: callId,
    caller,
    status: z.enum(['in_progress', 'completed']),
    operation: typed,
  }),
  apply_patch_call_output: z.strictObject({
    type: z.literal('apply_patch_call_output'),
    id,
    call_id: callId,
    caller,
    status: z.enum(['completed', 'failed']),
    output: z.string().nullish(),
  }),
  mcp_list_tools: z.strictObject({ type: z.literal('mcp_list_tools'), id, server_label: z.string(), tools: z.array(loose), error: z.string().nullish() }),
  mcp_approval_request: z.strictObject({ type: z.literal('mcp_approval_request'), id, server_label: z.string(), name: z.string(), arguments: z.string() }),
  mcp_approval_response: z.strictObject({
    type: z.literal('mcp_approval_response'),
    id,
    approval_request_id: z.string(),
    approve: z.boolean(),
    reason: z.string().nullish(),
  }),
  mcp_call: z.strictObject({
    type: z.literal('mcp_call'),
    id,
    server_label: z.string(),
    name: z.string(),
    arguments: z.string(),
    output: z.string().nullish(),
    error: z.unknown().optional(),
    status: z.enum(['in_progress', 'completed', 'incomplete', 'calling', 'failed']).nullish(),
    approval_request_id: z.string().nullish(),
  }),
  custom_tool_call: z.strictObject({
    type: z.literal('custom_tool_call'),
    id,
    call_id: callId,
    name: z.string(),
    input: z.string(),
    namespace: z.string().nullish(),
    caller,
    status: itemStatus.nullish(),
  }),
  custom_tool_call_output: z.strictObject({
    type: z.literal('custom_tool_call_output'),
    id,
    call_id: callId,
    output: toolOutput,
    caller,
    status: itemStatus.nullish(),
  }),
} as const satisfies Record<string, z.ZodObject>;

export type ItemType = keyof typeof ITEM_SCHEMAS;
export const ITEM_TYPES = Object.keys(ITEM_SCHEMAS) as readonly ItemType[];

/** Fills in the `type` the spec lets clients omit: a message (has `role`) or an item reference (a bare `{id}`). */
export function inferItemType(obj: Record<string, unknown>): unknown {
  if (obj.type !== undefined && obj.type !== null) return obj.type;
  if ('role' in obj) return 'message';
  if ('id' in obj) return 'item_reference';
  return undefined;
}

/** The whole union as one zod schema (for documents and typing; validateInputItem gives the precise errors). */
export const inputItemSchema = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) ? { ...v, type: inferItemType(v as Record<string, unknown>) } : v),
  z.discriminatedUnion('type', Object.values(ITEM_SCHEMAS) as unknown as [z.ZodObject, ...z.ZodObject[]]),
);

/** An item after validation: `type` always set, every other field as the spec shapes it. */
export type InputItem = Record<string, unknown> & { type: string; id?: string | null };

/** Validates one input item, naming the offending field under `param` (e.g. `input[0].content[1].text`). */
export function validateInputItem(raw: unknown, param: string): InputItem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidRequestError(`Invalid type for '${param}': expected an object, but got ${describe(raw)} instead.`, param, 'invalid_type');
  }
  const obj = raw as Record<string, unknown>;
  const type = inferItemType(obj);
  if (type === undefined) throw new InvalidRequestError(`Missing required parameter: '${param}.type'.`, `${param}.type`, 'missing_required_parameter');
  if (typeof type !== 'string' || !(ITEM_TYPES as readonly string[]).includes(type)) {
    throw new InvalidRequestError(`Invalid value: '${String(type)}'. Supported values are: ${quoteList(ITEM_TYPES)}.`, `${param}.type`, 'invalid_value');
  }
  // Content first: its part-by-part check names the exact part, where the union would only say "invalid".
  if (type === 'message') validateParts(obj.content, obj.role === 'assistant' ? ASSISTANT_PARTS : INPUT_PARTS, `${param}.content`, 'input content parts');
  if (type === 'function_call_output' || type === 'custom_tool_call_output') validateParts(obj.output, TOOL_OUTPUT_PARTS, `${param}.output`, 'content parts');
  return validate(ITEM_SCHEMAS[type as ItemType], { ...obj, type }, param) as InputItem;
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

/** A string, or a list of parts of the given types (each checked by its own schema). */
function validateParts(content: unknown, schemas: Readonly<Record<string, z.ZodType>>, param: string, what: string): void {
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) {
    throw new InvalidRequestError(`Invalid type for '${param}': expected one of a string or array of ${what}, but got ${describe(content)} instead.`, param, 'invalid_type');
  }
  content.forEach((part, i) => validatePart(part, schemas, `${param}[${i}]`));
}

function validatePart(part: unknown, schemas: Readonly<Record<string, z.ZodType>>, param: string): void {
  if (typeof part !== 'object' || part === null || Array.isArray(part)) {
    throw new InvalidRequestError(`Invalid type for '${param}': expected an object, but got ${describe(part)} instead.`, param, 'invalid_type');
  }
  const type = (part as { type?: unknown }).type;
  const schema = typeof type === 'string' ? schemas[type] : undefined;
  if (!schema) {
    if (type === undefined) throw new InvalidRequestError(`Missing required parameter: '${param}.type'.`, `${param}.type`, 'missing_required_parameter');
    throw new InvalidRequestError(`Invalid value: '${String(type)}'. Supported values are: ${quoteList(Object.keys(schemas))}.`, `${param}.type`, 'invalid_value');
  }
  validate(schema, part, param);
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
