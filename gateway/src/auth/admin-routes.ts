import { randomBytes } from 'node:crypto';
import type { Router } from 'express';
import { z } from 'zod';
import { NotFoundError, defineRoute, routerFor, type AnyRoute } from '@rgw/shared';
import type { KeyRecord, ProjectRecord } from './auth-store.js';
import type { Gatekeeper } from './gatekeeper.js';
import { hashKey, newSecret, redactKey } from './keys.js';

const projectIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a project id uses letters, digits, "_", "." and "-" (at most 64)');
const keyIdSchema = z.string().regex(/^key_[A-Za-z0-9]{1,64}$/, 'an API key id looks like key_...');
const limit = z.number().int().positive().nullable().optional();
const name = z.string().min(1).max(256);

const projectBody = z.strictObject({ name, rpm: limit, tpm: limit });
const projectPatch = z.strictObject({ name: name.optional(), rpm: limit, tpm: limit });
const keyBody = z.strictObject({ name: name.optional(), models: z.array(z.string().min(1).max(256)).max(1000).nullable().optional(), rpm: limit, tpm: limit });
const usageQuery = z.strictObject({
  project_id: projectIdSchema.optional(),
  api_key_id: keyIdSchema.optional(),
  model: z.string().max(256).optional(),
  start_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  end_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
});

const list = (data: { id: string }[]) => ({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });

/**
 * The admin API (ADMIN_API_KEY), after OpenAI's organization API: projects, their API keys (the
 * secret is in the creation reply only; afterwards a key is known by its id and redacted value),
 * and usage per key and model. Creating keys is our extension (OpenAI mints them in its dashboard).
 */
export function adminRouteDescriptors(gate: Gatekeeper): AnyRoute[] {
  const { store } = gate;
  const project = async (id: string) => {
    const record = await store.getProject(id);
    if (!record) throw new NotFoundError(`No project with id '${id}' found.`, 'project_id');
    return record;
  };
  return [
    defineRoute({
      method: 'post',
      path: '/v1/organization/projects',
      operationId: 'createProject',
      summary: 'Create a project (optionally with requests/tokens per minute limits shared by its keys).',
      body: projectBody,
      bodyPolicy: 'json',
      handler: async ({ body }) => {
        const record: ProjectRecord = { project_id: `proj_${randomBytes(12).toString('hex')}`, name: body.name, rpm: body.rpm ?? null, tpm: body.tpm ?? null, created_at: now() };
        await store.createProject(record);
        return projectView(record);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organization/projects',
      operationId: 'listProjects',
      summary: 'List the managed projects (keys from API_KEYS or the config file are not listed).',
      bodyPolicy: 'none',
      handler: async () => list((await store.listProjects()).map(projectView)),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organization/projects/:project_id',
      operationId: 'retrieveProject',
      params: z.object({ project_id: projectIdSchema }),
      bodyPolicy: 'none',
      handler: async ({ params }) => projectView(await project(params.project_id)),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/organization/projects/:project_id',
      operationId: 'modifyProject',
      summary: "Change a project's name or limits (null removes a limit); takes effect at once.",
      params: z.object({ project_id: projectIdSchema }),
      body: projectPatch,
      bodyPolicy: 'json',
      handler: async ({ params, body }) => {
        await project(params.project_id);
        const updated = await store.updateProject(params.project_id, body);
        await gate.registry.changed();
        return projectView(updated!);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/organization/projects/:project_id/api_keys',
      operationId: 'createProjectApiKey',
      summary: 'Create an API key; its secret (`value`) is in this reply only.',
      extension: true,
      params: z.object({ project_id: projectIdSchema }),
      body: keyBody,
      bodyPolicy: 'json',
      handler: async ({ params, body }) => {
        await project(params.project_id);
        const secret = newSecret();
        const record: KeyRecord = {
          key_id: `key_${randomBytes(12).toString('hex')}`,
          project_id: params.project_id,
          name: body.name ?? 'Secret key',
          redacted_value: redactKey(secret),
          models: body.models ?? null,
          rpm: body.rpm ?? null,
          tpm: body.tpm ?? null,
          created_at: now(),
          revoked_at: null,
        };
        await store.createKey({ ...record, key_hash: hashKey(secret) });
        return { ...keyView(record), value: secret };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organization/projects/:project_id/api_keys',
      operationId: 'listProjectApiKeys',
      params: z.object({ project_id: projectIdSchema }),
      bodyPolicy: 'none',
      handler: async ({ params }) => {
        await project(params.project_id);
        return list((await store.listKeys(params.project_id)).map(keyView));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/organization/projects/:project_id/api_keys/:key_id',
      operationId: 'deleteProjectApiKey',
      summary: 'Revoke an API key: refused by every gateway replica within a second.',
      params: z.object({ project_id: projectIdSchema, key_id: keyIdSchema }),
      bodyPolicy: 'none',
      handler: async ({ params }) => {
        if (!(await store.revokeKey(params.project_id, params.key_id, now()))) {
          throw new NotFoundError(`No API key with id '${params.key_id}' in project '${params.project_id}'.`, 'key_id');
        }
        await gate.registry.changed();
        return { object: 'organization.project.api_key.deleted', id: params.key_id, deleted: true };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organization/usage',
      operationId: 'getUsage',
      summary: 'Requests and tokens per project, key, model and UTC day.',
      extension: true,
      query: usageQuery,
      bodyPolicy: 'none',
      handler: async ({ query }) => usage(gate, query),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organization/projects/:project_id/usage',
      operationId: 'getProjectUsage',
      extension: true,
      params: z.object({ project_id: projectIdSchema }),
      query: usageQuery.omit({ project_id: true }),
      bodyPolicy: 'none',
      handler: async ({ params, query }) => usage(gate, { ...query, project_id: params.project_id }),
    }),
  ];
}

export function adminRoutes(gate: Gatekeeper, bodyLimitBytes: number): Router {
  return routerFor(adminRouteDescriptors(gate), { bodyLimitBytes });
}

async function usage(gate: Gatekeeper, q: z.infer<typeof usageQuery>) {
  await gate.usage.flush();
  const rows = await gate.store.usage({ projectId: q.project_id, keyId: q.api_key_id, model: q.model, from: q.start_date, to: q.end_date });
  return {
    object: 'list',
    data: rows.map((r) => ({
      object: 'organization.usage.result',
      project_id: r.project_id,
      api_key_id: r.key_id,
      model: r.model,
      date: r.day,
      num_model_requests: r.requests,
      input_tokens: r.input_tokens,
      output_tokens: r.output_tokens,
    })),
    has_more: false,
  };
}

function projectView(p: ProjectRecord) {
  return { object: 'organization.project', id: p.project_id, name: p.name, created_at: p.created_at, status: 'active', rate_limits: { rpm: p.rpm, tpm: p.tpm } };
}

function keyView(k: KeyRecord) {
  return {
    object: 'organization.project.api_key',
    id: k.key_id,
    name: k.name,
    redacted_value: k.redacted_value,
    created_at: k.created_at,
    status: k.revoked_at === null ? 'active' : 'revoked',
    models: k.models,
    rate_limits: { rpm: k.rpm, tpm: k.tpm },
  };
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

