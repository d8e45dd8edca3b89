import {
  InvalidRequestError,
  NotFoundError,
  applyIncludeAll,
  applyIncludeToOutput,
  projectOf,
  toListPage,
  validate,
  type InferenceClient,
  type ListPage,
  type Logger,
  type RequestContext,
} from '@rgw/shared';
import type { BackgroundRunner } from './background/background-runner.js';
import { countTokensRequest, offeredChatTools } from './chat/chat-request.js';
import { assembleContext } from './context/context-assembly.js';
import { generateResponse, type EngineDeps, type RunPlan } from './engine/response-engine.js';
import { sequencer } from './engine/sequence.js';
import { ForegroundRecord, type ForegroundDeps } from './durability/foreground-record.js';
import { responseNotFound } from './response/response-errors.js';
import { callerOf } from './request/caller.js';
import { buildPlan, prepareCount, prepareCreate, type PrepareDeps, type PreparedRequest } from './request/prepare-request.js';
import type { PageQuery, ResponseStore } from './store/response-store.js';
import type { UsageReporter } from './usage/usage-reporter.js';
import { inputTokensSchema } from './wire/create-response-schema.js';
import { TERMINAL_EVENT_TYPES, TERMINAL_STATUSES, type ResponseItem, type ResponseObject, type ResponseStreamEvent } from './wire/response-types.js';

export interface ManagerDeps {
  store: ResponseStore;
  runner: BackgroundRunner;
  engine: EngineDeps;
  prepare: PrepareDeps;
  inference: Pick<InferenceClient, 'chatCompletion'>;
  /** What records foreground responses while they run (lease, outbox). */
  foreground: ForegroundDeps;
  usage: UsageReporter;
  log: Logger;
}

export interface ForegroundOptions {
  signal: AbortSignal;
  requestId?: string;
  /** False when nobody reads the events, only the final Response (see RunOptions.snapshots). */
  snapshots?: boolean;
  /** False: the model's replies are asked whole, not streamed (see RunOptions.streamUpstream). */
  streamUpstream?: boolean;
}

/**
 * The responses service's logic, between the thin HTTP handlers and the store, engine and runner.
 * Every call acts for the request's project (`ctx`): another project's response is a 404, never a 403.
 */
export class ResponsesManager {
  constructor(private readonly deps: ManagerDeps) {}

  /**
   * Every check of a create request; throws the 4xx before anything is written or streamed. The
   * context is assembled for background requests too (their run assembles it again when it starts),
   * so what can be checked without the model — e.g. input items already in the conversation — is a
   * 400 now rather than a `failed` response later.
   */
  async prepare(ctx: RequestContext, body: unknown): Promise<{ prepared: PreparedRequest; plan: RunPlan }> {
    const prepared = await prepareCreate(body, this.deps.prepare, callerOf(ctx));
    return { prepared, plan: await buildPlan(prepared, this.deps.prepare) };
  }

  /**
   * A foreground response's events. With store, the response is recorded `in_progress` as it starts
   * (a crash leaves it readable, ended `failed` by the reaper) and finished — and appended to its
   * conversation — before its terminal event goes out (so a retrieve or a conversation listing right
   * after the stream finds it); a client that goes away mid-stream leaves it stored as `cancelled`
   * with what was produced. An upstream failure before any output is thrown (the caller answers it
   * as an HTTP error) and nothing stays stored.
   */
  async *runForeground(prepared: PreparedRequest, plan: RunPlan, opts: ForegroundOptions): AsyncGenerator<ResponseStreamEvent> {
    const { engine, log } = this.deps;
    const response = plan.response;
    const record = prepared.body.store === false ? undefined : new ForegroundRecord(this.deps.foreground, prepared, response, opts.requestId);
    let finished = !record;
    const finish = async (how: () => Promise<void>) => {
      finished = true;
      await how().catch((err) => log.error({ err, responseId: response.id }, 'storing the end of a response failed'));
    };
    // Numbered here rather than by another generator in between: each layer is a hop per event.
    const number = sequencer();
    try {
      for await (const unsequenced of generateResponse(plan, engine, { ...opts, throwBeforeOutput: true })) {
        const event = number(unsequenced);
        if (record && TERMINAL_EVENT_TYPES.has(event.type)) {
          finished = true;
          await record.finish();
        } else {
          const saving = record?.observe(event);
          if (saving) await saving;
        }
        yield event;
      }
    } catch (err) {
      if (!finished && record) {
        if (response.output.length === 0) await finish(() => record.discard());
        else {
          response.status = 'failed';
          response.error ??= { code: 'server_error', message: 'The server had an error while running the response.' };
          await finish(() => record.finish());
        }
      }
      throw err;
    } finally {
      // Whatever its end, the model was asked: its usage is reported once (never delaying the answer).
      this.deps.usage.report(response, prepared.principal);
      if (!finished && record) {
        if (!TERMINAL_STATUSES.includes(response.status)) response.status = 'cancelled';
        // Items cut off mid-way will never finish: stored as incomplete, not forever in progress.
        for (const item of response.output) if (item.status === 'in_progress') item.status = 'incomplete';
        await finish(() => record.finish());
      }
    }
  }

  /** Non-streaming: runs the same events to the end and returns the final Response. */
  async collect(prepared: PreparedRequest, plan: RunPlan, opts: ForegroundOptions): Promise<ResponseObject> {
    for await (const _event of this.runForeground(prepared, plan, { ...opts, snapshots: false, streamUpstream: false }));
    return plan.response;
  }

  async startBackground(prepared: PreparedRequest): Promise<ResponseObject> {
    await this.deps.runner.enqueue(prepared);
    return prepared.response;
  }

  /** GET /v1/responses/{id}: fields only sent on request (logprobs, encrypted reasoning, ...) appear when `include` names them. */
  async retrieve(ctx: RequestContext, id: string, include: readonly string[] = []): Promise<ResponseObject> {
    const record = await this.deps.store.get(projectOf(ctx), id);
    if (!record) throw responseNotFound(id);
    const response = record.response;
    // Whoever sees it finished finds its conversation updated: an append still owed is tried first.
    if (response.conversation && response.store && (response.status === 'completed' || response.status === 'incomplete')) {
      await this.deps.foreground.outbox.settleResponse(id, response.conversation.id);
    }
    return applyIncludeToOutput(response, include);
  }

  /** GET /v1/responses/{id}?stream=true: background responses only, replayed from `startingAfter`. */
  async stream(ctx: RequestContext, id: string, startingAfter: number, signal: AbortSignal): Promise<AsyncGenerator<ResponseStreamEvent>> {
    const record = await this.deps.store.get(projectOf(ctx), id);
    if (!record) throw responseNotFound(id);
    if (!record.response.background) {
      throw new InvalidRequestError('Only responses created with background set to true can be streamed after creation.', 'stream', 'invalid_request');
    }
    return this.deps.runner.follow(id, startingAfter, signal);
  }

  /** The live stream of a background response this request just created (so its own project's). */
  follow(id: string, signal: AbortSignal): AsyncGenerator<ResponseStreamEvent> {
    return this.deps.runner.follow(id, -1, signal);
  }

  cancel(ctx: RequestContext, id: string): Promise<ResponseObject> {
    return this.deps.runner.cancel(projectOf(ctx), id);
  }

  async list(ctx: RequestContext, query: PageQuery & { model?: string }): Promise<ListPage<ResponseObject>> {
    const rows = await this.deps.store.list(projectOf(ctx), query);
    if (!rows) throw cursorNotFound(`Response with id '${query.after ?? query.before}' not found.`, query);
    return toListPage(rows, query.limit);
  }

  async listInputItems(ctx: RequestContext, id: string, query: PageQuery & { include?: readonly string[] }): Promise<ListPage<ResponseItem>> {
    const project = projectOf(ctx);
    if (!(await this.deps.store.exists(project, id))) throw responseNotFound(id);
    const rows = await this.deps.store.listInputItems(project, id, query);
    if (!rows) throw cursorNotFound(`Item with id '${query.after ?? query.before}' not found in response '${id}'.`, query);
    return toListPage(applyIncludeAll(rows, query.include ?? []), query.limit);
  }

  /** Deletes a response; a background run of it in this process stops at once (elsewhere, on its next heartbeat). */
  async delete(ctx: RequestContext, id: string): Promise<{ id: string; object: 'response'; deleted: true }> {
    if (!(await this.deps.store.delete(projectOf(ctx), id))) throw responseNotFound(id);
    this.deps.runner.abandon(id);
    return { id, object: 'response', deleted: true };
  }

  /**
   * POST /v1/responses/input_tokens: asks the model server for a one-token completion of the would-be
   * context and reads its prompt token count; a character estimate when it cannot tell.
   */
  async countInputTokens(ctx: RequestContext, raw: unknown): Promise<{ object: 'response.input_tokens'; input_tokens: number }> {
    const caller = callerOf(ctx);
    const requestId = ctx.requestId;
    const body = validate(inputTokensSchema, raw ?? {});
    const { input, tools, conversationId } = await prepareCount(body, this.deps.prepare, caller);
    const { store, conversations, registry, inputFiles } = this.deps.prepare;
    const context = await assembleContext(
      { store, conversations, mappers: registry.itemMappers(), inputFiles },
      { instructions: body.instructions ?? null, previousResponseId: body.previous_response_id ?? null, conversationId, input },
      caller,
    );
    const chatTools = offeredChatTools(tools, true);
    const estimate = Math.ceil(JSON.stringify({ messages: context.messages, tools: chatTools }).length / 4);
    const result = (input_tokens: number) => ({ object: 'response.input_tokens' as const, input_tokens });
    if (!body.model) return result(estimate);
    const request = countTokensRequest(body.model, context.messages, chatTools, body.text);
    try {
      const reply = await this.deps.inference.chatCompletion<{ usage?: { prompt_tokens?: unknown } }>(request, { requestId });
      const counted = reply?.usage?.prompt_tokens;
      if (typeof counted === 'number' && counted >= 0) return result(counted);
    } catch (err) {
      this.deps.log.info({ err: (err as Error).message }, 'input token count fell back to an estimate');
    }
    return result(estimate);
  }
}

/** 404 for a list cursor (`after`, else `before`) that names nothing in the list. */
function cursorNotFound(message: string, query: PageQuery): NotFoundError {
  return new NotFoundError(message, query.after ? 'after' : 'before', 'not_found');
}
