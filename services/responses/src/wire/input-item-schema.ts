import { z } from 'zod';

// Inbound input items (spec: InputItem = EasyInputMessage | Item | ItemReferenceParam). Strict on the
// items we act on, so a typo is a 400 naming the field; items a client passes back from an earlier
// output (ids, statuses, annotations) are accepted as they are.

const itemStatus = z.enum(['in_progress', 'completed', 'incomplete']);

export const inputTextPartSchema = z.strictObject({
  type: z.literal('input_text'),
  text: z.string(),
  prompt_cache_breakpoint: z.unknown().optional(),
});

export const inputImagePartSchema = z
  .strictObject({
    type: z.literal('input_image'),
    image_url: z.string().min(1).nullish(),
    file_id: z.string().min(1).nullish(),
    detail: z.enum(['low', 'high', 'auto', 'original']).optional(),
    prompt_cache_breakpoint: z.unknown().optional(),
  })
  .refine((p) => Boolean(p.image_url) || Boolean(p.file_id), { message: 'input_image needs image_url or file_id', path: ['image_url'] });

export const inputFilePartSchema = z
  .strictObject({
    type: z.literal('input_file'),
    file_id: z.string().min(1).nullish(),
    filename: z.string().optional(),
    file_data: z.string().min(1).optional(),
    file_url: z.string().url().optional(),
    detail: z.string().optional(),
    prompt_cache_breakpoint: z.unknown().optional(),
  })
  .refine((p) => Boolean(p.file_id) || Boolean(p.file_data) || Boolean(p.file_url), {
    message: 'input_file needs file_id, file_data or file_url',
    path: ['file_id'],
  });

// Assistant turns passed back as input carry output parts.
const outputTextPartSchema = z.strictObject({
  type: z.literal('output_text'),
  text: z.string(),
  annotations: z.array(z.unknown()).optional(),
  logprobs: z.array(z.unknown()).nullish(),
});

const refusalPartSchema = z.strictObject({ type: z.literal('refusal'), refusal: z.string() });

const contentPartSchema = z.discriminatedUnion('type', [inputTextPartSchema, inputImagePartSchema, inputFilePartSchema, outputTextPartSchema, refusalPartSchema]);

const OUTPUT_PART_TYPES = new Set(['output_text', 'refusal']);

export const messageItemSchema = z
  .strictObject({
    type: z.literal('message'),
    role: z.enum(['user', 'assistant', 'system', 'developer']),
    content: z.union([z.string(), z.array(contentPartSchema)]),
    id: z.string().min(1).optional(),
    status: itemStatus.optional(),
    phase: z.enum(['commentary', 'final_answer']).nullish(),
  })
  // Spec: only an assistant message (OutputMessage) carries output parts; user, system and developer
  // messages take input content only. An assistant message may carry input_text (EasyInputMessage).
  .superRefine((m, ctx) => {
    if (m.role === 'assistant' || typeof m.content === 'string') return;
    m.content.forEach((part, i) => {
      if (OUTPUT_PART_TYPES.has(part.type)) ctx.addIssue({ code: 'custom', path: ['content', i, 'type'], message: `'${part.type}' content is only valid in assistant messages; a ${m.role} message takes input_text, input_image or input_file` });
    });
  });

export const functionCallItemSchema = z.strictObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  id: z.string().min(1).optional(),
  status: itemStatus.optional(),
  namespace: z.string().optional(),
  caller: z.unknown().optional(),
});

const toolOutputPartSchema = z.discriminatedUnion('type', [inputTextPartSchema, inputImagePartSchema, inputFilePartSchema]);

export const functionCallOutputItemSchema = z.strictObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1).max(64),
  output: z.union([z.string().max(10_485_760), z.array(toolOutputPartSchema)]),
  id: z.string().min(1).nullish(),
  status: itemStatus.nullish(),
  name: z.string().nullish(),
  namespace: z.string().nullish(),
  caller: z.unknown().optional(),
});

export const itemReferenceSchema = z.strictObject({
  type: z.literal('item_reference'),
  id: z.string().min(1),
});

// Reasoning items from an earlier turn are passed back as they came (fields we do not know are kept),
// but what the spec types (ReasoningItem: summary, content, encrypted_content) must have its shape.
export const reasoningItemSchema = z.looseObject({
  type: z.literal('reasoning'),
  id: z.string().min(1).optional(),
  summary: z.array(z.strictObject({ type: z.literal('summary_text'), text: z.string() })).optional(),
  content: z.array(z.strictObject({ type: z.literal('reasoning_text'), text: z.string() })).nullish(),
  encrypted_content: z.string().nullish(),
  status: itemStatus.optional(),
});

export const SUPPORTED_ITEM_TYPES = ['message', 'function_call', 'function_call_output', 'item_reference', 'reasoning'] as const;

/** Fills in the `type` the spec lets clients omit (messages and item references). */
function withDefaultType(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  if (v.type !== undefined && v.type !== null) return v;
  if ('role' in v) return { ...v, type: 'message' };
  if ('id' in v && Object.keys(v).every((k) => k === 'id' || k === 'type')) return { id: v.id, type: 'item_reference' };
  return v;
}

export const inputItemSchema = z.preprocess(
  withDefaultType,
  z.discriminatedUnion('type', [messageItemSchema, functionCallItemSchema, functionCallOutputItemSchema, itemReferenceSchema, reasoningItemSchema], {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `Unsupported or missing item type; expected one of: ${SUPPORTED_ITEM_TYPES.join(', ')}`
        : undefined,
  }),
);

export const inputSchema = z.union([z.string(), z.array(inputItemSchema)]);

export type InputItem = z.output<typeof inputItemSchema>;
export type MessageInputItem = z.output<typeof messageItemSchema>;
export type ContentPart = z.output<typeof contentPartSchema>;
export type ToolOutputPart = z.output<typeof toolOutputPartSchema>;
