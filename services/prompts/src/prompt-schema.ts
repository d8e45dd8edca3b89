import { z } from 'zod';
import { InvalidRequestError, PROMPT_VARIABLE_NAME, templateVariables, validate } from '@rgw/shared';

// Request bodies of /v1/prompts, as Llama Stack's CreatePromptRequest, UpdatePromptBodyRequest and
// SetDefaultVersionBodyRequest define them.

/** Versions live in a 32-bit `integer` column: anything larger is the caller's error, not a database one. */
export const MAX_PROMPT_VERSION = 2_147_483_647;

const version = z.number().int().min(1).max(MAX_PROMPT_VERSION);
const variables = z.array(z.string()).nullish();

export const createPromptSchema = z.strictObject({
  prompt: z.string(),
  variables,
});

export const updatePromptSchema = z.strictObject({
  prompt: z.string(),
  version,
  variables,
  set_as_default: z.boolean().default(true),
});

export const setDefaultVersionSchema = z.strictObject({ version });

export const getPromptQuerySchema = z.object({
  version: z.coerce.number().int().min(1).max(MAX_PROMPT_VERSION).optional(),
});

/** A prompt id must look like one: `pmpt_` and 48 hex digits (the only form we mint). */
const promptId = z.string().regex(/^pmpt_[0-9a-f]{48}$/, "Expected an ID of the form 'pmpt_' followed by 48 hex digits.");

export const promptParamsSchema = z.object({ prompt_id: promptId });

/** Checks a prompt id outside a route (400 naming `prompt_id`). */
export function checkPromptId(id: string): string {
  return validate(promptId, id, 'prompt_id');
}

/**
 * The declared variables after checking them against the template: each a distinct identifier, and
 * every `{{name}}` placeholder of the template among them.
 */
export function checkVariables(template: string, declared: readonly string[] | null | undefined): string[] {
  const names = [...(declared ?? [])];
  const seen = new Set<string>();
  for (const [i, name] of names.entries()) {
    if (!PROMPT_VARIABLE_NAME.test(name)) {
      throw new InvalidRequestError(`Invalid 'variables[${i}]': '${name}' is not a valid variable name (letters, digits and '_', not starting with a digit).`, `variables[${i}]`, 'invalid_value');
    }
    if (seen.has(name)) throw new InvalidRequestError(`Invalid 'variables[${i}]': '${name}' is declared twice.`, `variables[${i}]`, 'invalid_value');
    seen.add(name);
  }
  const undeclared = templateVariables(template).filter((name) => !seen.has(name));
  if (undeclared.length) {
    throw new InvalidRequestError(
      `The prompt uses undeclared variables: ${undeclared.map((n) => `'${n}'`).join(', ')}. Declare every {{name}} placeholder in 'variables'.`,
      'variables',
      'undeclared_prompt_variable',
    );
  }
  return names;
}
