import { z } from 'zod';
import {
  ApiError,
  InvalidRequestError,
  ServiceUnreachableError,
  assertSafeId,
  renderPrompt,
  validate,
  type PromptContentPart,
  type PromptsClient,
  type RenderedPrompt,
} from '@rgw/shared';
import { itemsToChatMessages } from '../chat/items-to-chat.js';
import type { Caller } from '../request/caller.js';
import type { CreateResponseBody } from '../wire/create-response-schema.js';
import { inputFilePartSchema, inputImagePartSchema } from '../wire/input-item-schema.js';
import type { InstructionMessage, ResponseItem, ResponsePrompt } from '../wire/response-types.js';

/** The part of the shared client this service uses (the Prompts API, over HTTP). */
export type PromptsApi = Pick<PromptsClient, 'getPrompt'>;

type PromptParam = NonNullable<CreateResponseBody['prompt']>;

// Tolerant: what the prompts service sends is read for the three fields used, with defaults where
// one is missing; anything unusable is the service's failure (502), never a crash here.
const storedPromptSchema = z.looseObject({
  prompt: z.string().nullish(),
  variables: z.array(z.string()).nullish(),
  version: z.union([z.number(), z.string()]),
});

/** A stored prompt rendered for one request: what leads the context, and what the Response echoes. */
export interface ResolvedPrompt {
  /** Response.prompt. */
  echo: ResponsePrompt;
  /** Response.instructions in list form; context/context-assembly.ts turns it into the leading messages. */
  instructions: InstructionMessage[];
}

/**
 * The messages a rendered prompt contributes, in the order the model reads them: the rendered text
 * as a developer message, the request's own `instructions` after it (so they can refine the stored
 * prompt), then the image and file variables in a user message, since a system message can only
 * carry text. Each part is preceded by its `[name]`, the marker the rendered text has in its place.
 */
export function promptInstructions(rendered: RenderedPrompt, names: readonly (string | undefined)[], instructions: string | null | undefined): InstructionMessage[] {
  const out: InstructionMessage[] = [];
  const developer = (text: string): InstructionMessage => ({ type: 'message', role: 'developer', content: [{ type: 'input_text', text }] });
  if (rendered.text) out.push(developer(rendered.text));
  if (instructions) out.push(developer(instructions));
  if (rendered.parts.length > 0) {
    const content = rendered.parts.flatMap((part, i) => {
      const name = names[i];
      return name ? [{ type: 'input_text', text: `[${name}]` }, { ...part }] : [{ ...part }];
    });
    out.push({ type: 'message', role: 'user', content });
  }
  return out;
}

/** Stored prompts as this service sees them: fetched over HTTP, errors renamed to our `prompt.*` params. */
export class PromptSource {
  constructor(private readonly api: PromptsApi) {}

  /**
   * Fetches the prompt (the version asked for, else the default) and renders it with the variables:
   * 404 for an unknown prompt or version (or another project's: the call is signed as the caller),
   * 400 naming a missing, undeclared or unusable variable.
   */
  async resolve(param: PromptParam, instructions: string | null | undefined, caller: Caller = {}): Promise<ResolvedPrompt> {
    // Checked before the id is put into the prompts service's URL (`.` or `..` would leave the route).
    assertSafeId(param.id, 'prompt.id');
    const stored = storedPromptSchema.safeParse(await this.fetch(param, caller));
    if (!stored.success) throw new ServiceUnreachableError('The prompts service sent a prompt this service cannot read.', 'invalid_service_response');
    const { prompt, variables, version } = stored.data;
    const values = param.variables ?? null;
    const rendered = renderPrompt(prompt ?? '', variables ?? [], values, 'prompt.variables');
    // renderPrompt hands back the caller's own value objects, so each part finds its variable by identity.
    const names = rendered.parts.map((part) => Object.keys(values ?? {}).find((name) => values?.[name] === part));
    rendered.parts.forEach((part, i) => checkSendable(part, names[i]));
    return {
      echo: { id: param.id, version: String(version), variables: values },
      instructions: promptInstructions(rendered, names, instructions),
    };
  }

  private async fetch(param: PromptParam, caller: Caller): Promise<unknown> {
    try {
      return await this.api.getPrompt(param.id, param.version ?? null, { requestId: caller.requestId, principal: caller.principal });
    } catch (err) {
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      const renamed = err.param === 'version' ? 'prompt.version' : err.param === 'prompt_id' ? 'prompt.id' : 'prompt';
      throw new ApiError(err.status, err.message, { type: err.type, param: renamed, code: err.code });
    }
  }
}

/**
 * An image or file value is checked as the same part in `input` would be, and one the model server
 * could not be sent (e.g. an image by file id) is refused: each a 400 naming its variable.
 */
function checkSendable(part: PromptContentPart, name: string | undefined): void {
  const param = name ? `prompt.variables.${name}` : 'prompt.variables';
  validate(part.type === 'input_image' ? inputImagePartSchema : inputFilePartSchema, part, param);
  // Files by id are read for input items only (input-files/); a rendered prompt keeps the reference.
  if (part.type === 'input_image' && !part.image_url) throw new InvalidRequestError('An input_image in a prompt variable needs an image_url (a URL or a data URL); file_id is not supported there.', param, 'unsupported_value');
  try {
    itemsToChatMessages(null, [{ id: 'prompt', type: 'message', role: 'user', content: [part] } as ResponseItem]);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    throw new InvalidRequestError(err.message, param, err.code);
  }
}
