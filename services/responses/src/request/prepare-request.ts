import { InvalidRequestError, NotFoundError, checkModelAccess, newId, nowSeconds, validate, type ModelCatalog, type Principal } from '@rgw/shared';
import { chatParams, planTools, wantsLogprobs, type ToolPlan } from '../chat/chat-request.js';
import { itemsToChatMessages } from '../chat/items-to-chat.js';
import { assembleContext } from '../context/context-assembly.js';
import { checkAppendable } from '../context/conversation-append-check.js';
import { conversationIdOf, type ConversationSource } from '../context/conversation-source.js';
import type { PromptSource } from '../context/prompt-source.js';
import type { RunPlan } from '../engine/response-engine.js';
import { newResponseObject } from '../response/response-object.js';
import type { ResponseStore, StoredRequest } from '../store/response-store.js';
import type { InputFileResolver } from '../input-files/input-file-resolver.js';
import type { ToolRegistry } from '../tools/tool-registry.js';
import { createResponseSchema, type CreateResponseBody } from '../wire/create-response-schema.js';
import type { ResponseItem, ResponseObject } from '../wire/response-types.js';
import { callerProject, type Caller } from './caller.js';
import { normalizeInput, type NormalizedInput } from './normalize-input.js';

/** A create request that passed every check: safe to start answering (and to stream). */
export interface PreparedRequest {
  body: CreateResponseBody;
  include: string[];
  /** This request's own input items, ids assigned, references resolved. */
  input: ResponseItem[];
  tools: ToolPlan;
  /** Its `conversation`, `prompt` and list-form `instructions` already filled in. */
  response: ResponseObject;
  /** The x-request-id of the create request, passed on to the other services (also by a background run). */
  requestId?: string;
  /** Whom the request acts for: the project the response belongs to, signed on every call to another service. */
  principal?: Principal;
}

export interface PrepareDeps {
  store: ResponseStore;
  catalog: Pick<ModelCatalog, 'resolve'>;
  registry: ToolRegistry;
  conversations: ConversationSource;
  prompts: PromptSource;
  /** Resolves input_file / input_image references (Files API, SSRF-guarded URLs) for the model. */
  inputFiles?: InputFileResolver;
}

/**
 * Every check of POST /v1/responses, in the order that names the most useful error first: schema,
 * cross-field rules, tools, model, previous response, referenced items, prompt. A conversation's
 * existence is proven by buildPlan, which lists its items (404 when it is unknown) before any byte
 * goes out; asking for it here as well would cost a second call to the Conversations service.
 * Nothing is written. Every lookup is within the caller's project: another project's previous
 * response, item, conversation or prompt is as unknown as one that never existed.
 */
export async function prepareCreate(raw: unknown, deps: PrepareDeps, caller: Caller = {}): Promise<PreparedRequest> {
  const body = validate(createResponseSchema, raw ?? {});
  if (body.moderation !== undefined && body.moderation !== null) throw new InvalidRequestError('The moderation parameter is not supported.', 'moderation', 'unsupported_parameter');
  if (body.background && body.store === false) {
    throw new InvalidRequestError('Background responses must be stored: background requires store to be true.', 'background', 'invalid_value');
  }
  if (body.stream_options && !body.stream) throw new InvalidRequestError('stream_options can only be set when stream is true.', 'stream_options', 'invalid_value');
  const conversationId = conversationIdOf(body);
  const normalized = normalizeInput(body.input);
  const tools = planTools(body, deps.registry);
  await checkServerTools(tools, caller);
  const input = await checkReferences(body, normalized, deps, caller);
  checkAppendable(input, { conversationId, store: body.store });
  const prompt = body.prompt ? await deps.prompts.resolve(body.prompt, body.instructions, caller) : null;
  const response = newResponseObject(newId('response'), body, nowSeconds(), body.background ? 'queued' : 'in_progress', { conversationId, prompt });
  // Fail before any byte goes out: mapping rejects content the model server could not take.
  itemsToChatMessages(response.instructions, input, deps.registry.itemMappers());
  const prepared: PreparedRequest = { body, include: body.include ?? [], input, tools, response, requestId: caller.requestId };
  if (caller.principal) prepared.principal = caller.principal;
  return prepared;
}

/** Server tools' own checks that need a lookup (e.g. file_search's vector stores), naming `tools[i]`. */
async function checkServerTools(tools: ToolPlan, caller: Caller): Promise<void> {
  await Promise.all(tools.serverTools.map((s) => s.tool.check?.(s.entry, `tools[${s.toolIndex}]`, caller)));
}

/** Model, previous response and item references: the checks that need a lookup. */
async function checkReferences(
  body: Pick<CreateResponseBody, 'model' | 'previous_response_id'>,
  normalized: NormalizedInput[],
  deps: PrepareDeps,
  caller: Caller,
): Promise<ResponseItem[]> {
  const project = callerProject(caller);
  if (body.model) {
    checkModelAccess(caller.principal, body.model);
    await deps.catalog.resolve(body.model);
  }
  if (body.previous_response_id && !(await deps.store.exists(project, body.previous_response_id))) {
    throw new NotFoundError(`Previous response with id '${body.previous_response_id}' not found.`, 'previous_response_id', 'previous_response_not_found');
  }
  const refs = normalized.filter((n): n is Extract<NormalizedInput, { kind: 'reference' }> => n.kind === 'reference');
  const found = await deps.store.findItems(project, refs.map((r) => r.id));
  return normalized.map((n) => {
    if (n.kind === 'item') return n.item;
    const item = found.get(n.id);
    if (!item) throw new NotFoundError(`Item with id '${n.id}' not found.`, `input[${n.index}].id`, 'item_not_found');
    return item;
  });
}

/** Lighter preparation for POST /v1/responses/input_tokens: same input rules, no response. */
export async function prepareCount(
  body: Pick<CreateResponseBody, 'input' | 'previous_response_id' | 'conversation' | 'tools' | 'tool_choice'> & { model?: string | null },
  deps: PrepareDeps,
  caller: Caller = {},
): Promise<{ input: ResponseItem[]; tools: ToolPlan; conversationId: string | null }> {
  const conversationId = conversationIdOf(body);
  const normalized = normalizeInput(body.input);
  const tools = planTools(body, deps.registry);
  const input = await checkReferences({ model: body.model ?? '', previous_response_id: body.previous_response_id }, normalized, deps, caller);
  return { input, tools, conversationId };
}

/** What gets stored for a later (background) run of this request. */
export function storedRequest(prepared: PreparedRequest): StoredRequest {
  const { input: _input, ...rest } = prepared.body;
  const stored: StoredRequest = { body: rest, include: prepared.include };
  if (prepared.requestId) stored.requestId = prepared.requestId;
  if (prepared.principal) stored.principal = prepared.principal;
  return stored;
}

/**
 * Turns a prepared (or stored) request into the engine's plan, assembling the context. The leading
 * instructions come from the Response (a prompt was rendered into it once, when the request was
 * checked), so a background run reads the prompt version the client was answered with.
 */
export async function buildPlan(
  args: { body: CreateResponseBody; include: readonly string[]; input: readonly ResponseItem[]; tools: ToolPlan; response: ResponseObject; requestId?: string; principal?: Principal },
  deps: PrepareDeps,
): Promise<RunPlan> {
  const context = await assembleContext(
    { store: deps.store, conversations: deps.conversations, mappers: deps.registry.itemMappers(), inputFiles: deps.inputFiles },
    {
      instructions: args.response.instructions,
      previousResponseId: args.response.previous_response_id,
      conversationId: args.response.conversation?.id ?? null,
      input: args.input,
    },
    { requestId: args.requestId, principal: args.principal },
  );
  return {
    response: args.response,
    messages: context.messages,
    params: { model: args.body.model, ...chatParams(args.body, args.include) },
    tools: args.tools,
    parallelToolCalls: args.body.parallel_tool_calls ?? true,
    maxToolCalls: args.body.max_tool_calls ?? null,
    truncation: args.body.truncation ?? 'disabled',
    logprobs: wantsLogprobs(args.body, args.include),
    include: args.include,
    principal: args.principal,
  };
}
