import { truncate } from '../http/safe-json.js';
import { InvalidRequestError } from '../errors.js';

/** `{{name}}`, with optional spaces inside the braces; names are identifiers. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** What a declared variable name must look like to be usable as a placeholder. */
export const PROMPT_VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The distinct placeholder names of a template, in order of first appearance. */
export function templateVariables(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(PLACEHOLDER), (m) => m[1]!))];
}

/** A non-text prompt variable value, sent to the model as a content part of its own. */
export type PromptContentPart =
  | ({ type: 'input_image' } & Record<string, unknown>)
  | ({ type: 'input_file' } & Record<string, unknown>);

/** A variable value as OpenAI's `ResponsePromptVariables` allows it. */
export type PromptVariableValue = string | { type: 'input_text'; text: string } | PromptContentPart;

export interface RenderedPrompt {
  /** The template with every text placeholder substituted (non-text ones become a `[name]` marker). */
  text: string;
  /** Image and file values, in the order their variables were declared, for the caller to send as parts. */
  parts: PromptContentPart[];
}

/**
 * Renders a stored prompt template with the caller's variable values, in one pass (a value that
 * itself contains `{{x}}` is not expanded again). A value for an undeclared variable, a placeholder
 * without a value, or a value of an unknown shape is a 400 naming the variable under `param`.
 */
export function renderPrompt(
  template: string,
  declaredVariables: readonly string[],
  values: Readonly<Record<string, unknown>> | null | undefined,
  param = 'prompt.variables',
): RenderedPrompt {
  const given = values ?? {};
  const declared = new Set(declaredVariables);
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) {
      throw new InvalidRequestError(`Prompt variable '${truncate(name, 100)}' is not declared by the prompt (declared: ${list(declaredVariables)}).`, `${param}.${truncate(name, 100)}`, 'unknown_prompt_variable');
    }
  }
  for (const name of templateVariables(template)) {
    if (!declared.has(name)) {
      throw new InvalidRequestError(`The prompt template uses the undeclared variable '${name}'.`, `${param}.${name}`, 'unknown_prompt_variable');
    }
    if (!Object.hasOwn(given, name)) {
      throw new InvalidRequestError(`Missing value for prompt variable '${name}'.`, `${param}.${name}`, 'missing_prompt_variable');
    }
  }

  const texts = new Map<string, string>();
  const parts: PromptContentPart[] = [];
  for (const name of declaredVariables) {
    if (!Object.hasOwn(given, name)) continue;
    const value = given[name];
    if (typeof value === 'string') texts.set(name, value);
    else if (isPart(value, 'input_text') && typeof value.text === 'string') texts.set(name, value.text);
    else if (isPart(value, 'input_image') || isPart(value, 'input_file')) {
      texts.set(name, `[${name}]`);
      parts.push(value as PromptContentPart);
    } else {
      throw new InvalidRequestError(
        `Invalid value for prompt variable '${truncate(name, 100)}': expected a string or an input_text, input_image or input_file object.`,
        `${param}.${truncate(name, 100)}`,
        'invalid_type',
      );
    }
  }
  const text = template.replace(PLACEHOLDER, (_match, name: string) => texts.get(name)!);
  return { text, parts };
}

function isPart(value: unknown, type: string): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { type?: unknown }).type === type;
}

function list(names: readonly string[]): string {
  return names.length ? names.map((n) => `'${n}'`).join(', ') : 'none';
}
