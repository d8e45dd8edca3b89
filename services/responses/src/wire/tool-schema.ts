import { z } from 'zod';

/** Spec: FunctionTool. `strict` defaults to true in the Responses API. */
export const functionToolSchema = z.strictObject({
  type: z.literal('function'),
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'function names use letters, digits, "_" and "-", at most 64 characters'),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
  output_schema: z.record(z.string(), z.unknown()).nullish(),
  defer_loading: z.boolean().optional(),
  allowed_callers: z.array(z.unknown()).nullish(),
});
export type FunctionToolParam = z.output<typeof functionToolSchema>;

/**
 * Any tool entry, dispatched on `type` first so an error names the field at fault (a union would
 * blame `type`): function tools are checked here, other types (server tools) against the tool
 * registry by the request preparation, which knows which ones exist.
 */
export const toolSchema = z.looseObject({ type: z.string() }).superRefine((tool, ctx) => {
  if (tool.type !== 'function') return;
  const parsed = functionToolSchema.safeParse(tool);
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
});

export const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.strictObject({ type: z.literal('function'), name: z.string().min(1) }),
  z.strictObject({
    type: z.literal('allowed_tools'),
    mode: z.enum(['auto', 'required']),
    tools: z.array(z.looseObject({ type: z.string(), name: z.string().optional() })).min(1),
  }),
  // Hosted tool types (file_search, ...): accepted when the registry has such a tool.
  z.strictObject({ type: z.string().min(1) }),
]);
export type ToolChoiceParam = z.output<typeof toolChoiceSchema>;

export const textFormatSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'names use letters, digits, "_" and "-", at most 64 characters'),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullish(),
  }),
]);
export type TextFormat = z.output<typeof textFormatSchema>;

export const textParamSchema = z.strictObject({
  format: textFormatSchema.optional(),
  verbosity: z.enum(['low', 'medium', 'high']).nullish(),
});

export const reasoningParamSchema = z.strictObject({
  effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']).nullish(),
  summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
  generate_summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
  context: z.enum(['auto', 'current_turn', 'all_turns']).nullish(),
  mode: z.string().optional(),
});
