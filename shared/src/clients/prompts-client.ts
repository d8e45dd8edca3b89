import { idSegment } from '../http/safe-id.js';
import { gatewayRequest, type ClientCallOptions, type ClientTransport } from './gateway-request.js';

/** A prompt version as the prompts service returns it (Llama Stack's Prompt). */
export interface PromptObject {
  prompt_id: string;
  prompt: string | null;
  version: number;
  variables: string[];
  is_default: boolean;
}

/** The Prompts API as other services use it, over public HTTP through the gateway. */
export class PromptsClient {
  constructor(private readonly transport: ClientTransport) {}

  /**
   * The given version, or the default version when none is given; a 404 ApiError when unknown.
   * `version` may be a string, as the Responses API's `prompt.version` is; the service checks it.
   * An id that cannot be ours (`.`, `..`, `/`) is a 400 before any URL is built from it.
   */
  async getPrompt(id: string, version?: number | string | null, opts: ClientCallOptions = {}): Promise<PromptObject> {
    return gatewayRequest(this.transport, {
      ...opts,
      service: 'prompts',
      method: 'GET',
      path: `/v1/prompts/${idSegment(id, 'prompt_id')}`,
      query: { version: version ?? undefined },
    });
  }
}
