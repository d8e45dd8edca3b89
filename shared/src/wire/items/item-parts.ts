import { z } from 'zod';

// Content parts of message items and tool outputs (spec: InputContent, OutputMessageContent,
// FunctionAndCustomToolCallOutput). Strict: a typo in a part is a 400 naming the field.

export const inputTextPart = z.strictObject({
  type: z.literal('input_text'),
  text: z.string(),
  prompt_cache_breakpoint: z.unknown().optional(),
});

export const inputImagePart = z
  .strictObject({
    type: z.literal('input_image'),
    image_url: z.string().min(1).nullish(),
    file_id: z.string().min(1).nullish(),
    detail: z.enum(['low', 'high', 'auto', 'original']).optional(),
    prompt_cache_breakpoint: z.unknown().optional(),
  })
  .refine((p) => Boolean(p.image_url) || Boolean(p.file_id), { message: 'An input_image needs an image_url or a file_id.', path: ['image_url'] });

export const inputFilePart = z
  .strictObject({
    type: z.literal('input_file'),
    file_id: z.string().min(1).nullish(),
    filename: z.string().nullish(),
    file_data: z.string().min(1).nullish(),
    file_url: z.string().url().nullish(),
    detail: z.enum(['low', 'high', 'auto']).optional(),
    prompt_cache_breakpoint: z.unknown().optional(),
  })
  .refine((p) => Boolean(p.file_id) || Boolean(p.file_data) || Boolean(p.file_url), {
    message: 'An input_file needs a file_id, file_data or file_url.',
    path: ['file_id'],
  });

export const outputTextPart = z.strictObject({
  type: z.literal('output_text'),
  text: z.string(),
  annotations: z.array(z.looseObject({ type: z.string() })).optional(),
  logprobs: z.array(z.looseObject({ token: z.string(), logprob: z.number() })).nullish(),
});

export const refusalPart = z.strictObject({ type: z.literal('refusal'), refusal: z.string() });

/** Part schemas by type, in the order OpenAI lists them in its error messages. */
export const INPUT_PARTS: Readonly<Record<string, z.ZodType>> = { input_text: inputTextPart, input_image: inputImagePart, input_file: inputFilePart };
export const OUTPUT_PARTS: Readonly<Record<string, z.ZodType>> = { output_text: outputTextPart, refusal: refusalPart };
/**
 * An assistant message is either an OutputMessage (output parts) or an EasyInputMessage (input
 * parts: an earlier answer replayed as text), so it takes both.
 */
export const ASSISTANT_PARTS: Readonly<Record<string, z.ZodType>> = { ...OUTPUT_PARTS, ...INPUT_PARTS };
/** function_call_output and custom_tool_call_output: text, images and files. */
export const TOOL_OUTPUT_PARTS: Readonly<Record<string, z.ZodType>> = INPUT_PARTS;
