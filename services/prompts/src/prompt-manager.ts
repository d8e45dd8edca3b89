import { InvalidRequestError, NotFoundError, newId, nowSeconds, projectOf, type RequestContext } from '@rgw/shared';
import { checkVariables } from './prompt-schema.js';
import type { PromptStore, PromptVersionView } from './prompt-store.js';

/** A prompt version on the wire (Llama Stack's Prompt). */
export interface PromptResource {
  prompt_id: string;
  prompt: string;
  version: number;
  variables: string[];
  is_default: boolean;
}

/**
 * The logic of the Prompts API over a store: versioning rules, variable checks, and the 404s. Every
 * call acts within the caller's project (`ctx`): another project's prompt is a 404, never a 403.
 */
export class PromptManager {
  constructor(private readonly store: PromptStore) {}

  async create(ctx: RequestContext, prompt: string, variables: readonly string[] | null | undefined): Promise<PromptResource> {
    const record = { prompt_id: newId('prompt'), version: 1, prompt, variables: checkVariables(prompt, variables), created_at: nowSeconds() };
    await this.store.create(projectOf(ctx), record);
    return toResource({ ...record, default_version: 1 });
  }

  async get(ctx: RequestContext, promptId: string, version?: number): Promise<PromptResource> {
    const view = await this.store.get(projectOf(ctx), promptId, version);
    if (view) return toResource(view);
    if (version !== undefined && (await this.store.exists(projectOf(ctx), promptId))) throw versionNotFound(promptId, version);
    throw promptNotFound(promptId);
  }

  async list(ctx: RequestContext): Promise<{ data: PromptResource[] }> {
    return { data: (await this.store.listDefaults(projectOf(ctx))).map(toResource) };
  }

  async listVersions(ctx: RequestContext, promptId: string): Promise<{ data: PromptResource[] }> {
    const versions = await this.store.listVersions(projectOf(ctx), promptId);
    if (!versions) throw promptNotFound(promptId);
    return { data: versions.map(toResource) };
  }

  /**
   * Writes a new version. `version` must be the latest one, so that two writers who both read
   * version N cannot silently overwrite each other: the second is told to re-read.
   */
  async update(ctx: RequestContext, promptId: string, body: { prompt: string; version: number; variables?: string[] | null; set_as_default: boolean }): Promise<PromptResource> {
    const variables = checkVariables(body.prompt, body.variables);
    const outcome = await this.store.addVersion(projectOf(ctx), { prompt_id: promptId, prompt: body.prompt, variables, created_at: nowSeconds() }, body.version, body.set_as_default);
    if (outcome.kind === 'not_found') throw promptNotFound(promptId);
    if (outcome.kind === 'stale') {
      throw new InvalidRequestError(
        `Version ${body.version} is not the latest version of prompt '${promptId}' (the latest is ${outcome.latest}). Fetch the latest version and update from it.`,
        'version',
        'stale_version',
      );
    }
    return toResource(outcome.record);
  }

  async setDefaultVersion(ctx: RequestContext, promptId: string, version: number): Promise<PromptResource> {
    const outcome = await this.store.setDefault(projectOf(ctx), promptId, version);
    if (outcome.kind === 'not_found') throw promptNotFound(promptId);
    if (outcome.kind === 'no_version') throw versionNotFound(promptId, version, 'version');
    return toResource(outcome.record);
  }

  async delete(ctx: RequestContext, promptId: string): Promise<void> {
    if (!(await this.store.delete(projectOf(ctx), promptId))) throw promptNotFound(promptId);
  }
}

function toResource(view: PromptVersionView): PromptResource {
  return { prompt_id: view.prompt_id, prompt: view.prompt, version: view.version, variables: view.variables, is_default: view.version === view.default_version };
}

function promptNotFound(promptId: string): NotFoundError {
  return new NotFoundError(`Prompt '${promptId}' not found.`, 'prompt_id', 'not_found');
}

function versionNotFound(promptId: string, version: number, param = 'version'): NotFoundError {
  return new NotFoundError(`Version ${version} of prompt '${promptId}' not found.`, param, 'not_found');
}
