import { sql, type Kysely } from 'kysely';
import type { Database } from '@rgw/shared';

export interface ProjectRecord {
  project_id: string;
  name: string;
  rpm: number | null;
  tpm: number | null;
  created_at: number;
}

export interface KeyRecord {
  key_id: string;
  project_id: string;
  name: string;
  redacted_value: string;
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  created_at: number;
  revoked_at: number | null;
}

export interface UsageDelta {
  projectId: string;
  keyId?: string;
  model: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  /** ms since the epoch; bucketed by UTC day. */
  at: number;
}

export interface UsageRow {
  project_id: string;
  key_id: string | null;
  model: string;
  day: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
}

/** Managed projects, keys (by hash) and usage, in SQL (SQLite or Postgres, same queries). */
export class AuthStore {
  private readonly db: Kysely<any>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async createProject(record: ProjectRecord): Promise<void> {
    await this.db.insertInto('auth_projects').values(record).execute();
  }

  async getProject(projectId: string): Promise<ProjectRecord | undefined> {
    const row = await this.db.selectFrom('auth_projects').selectAll().where('project_id', '=', projectId).executeTakeFirst();
    return row ? toProject(row) : undefined;
  }

  async listProjects(): Promise<ProjectRecord[]> {
    const rows = await this.db.selectFrom('auth_projects').selectAll().orderBy('seq', 'asc').execute();
    return rows.map(toProject);
  }

  async updateProject(projectId: string, patch: Partial<Pick<ProjectRecord, 'name' | 'rpm' | 'tpm'>>): Promise<ProjectRecord | undefined> {
    if (Object.keys(patch).length) await this.db.updateTable('auth_projects').set(patch).where('project_id', '=', projectId).execute();
    return this.getProject(projectId);
  }

  async createKey(record: KeyRecord & { key_hash: string }): Promise<void> {
    await this.db
      .insertInto('auth_keys')
      .values({ ...record, models: record.models ? JSON.stringify(record.models) : null })
      .execute();
  }

  async listKeys(projectId: string): Promise<KeyRecord[]> {
    const rows = await this.db.selectFrom('auth_keys').selectAll().where('project_id', '=', projectId).orderBy('seq', 'asc').execute();
    return rows.map(toKey);
  }

  /** The live (not revoked) key with this hash, with its project's limits. */
  async findActiveKey(keyHash: string): Promise<{ key: KeyRecord; project: ProjectRecord } | undefined> {
    const row = await this.db
      .selectFrom('auth_keys as k')
      .innerJoin('auth_projects as p', 'p.project_id', 'k.project_id')
      .select([
        'k.key_id', 'k.project_id', 'k.name', 'k.redacted_value', 'k.models', 'k.rpm', 'k.tpm', 'k.created_at', 'k.revoked_at',
        'p.name as p_name', 'p.rpm as p_rpm', 'p.tpm as p_tpm', 'p.created_at as p_created_at',
      ])
      .where('k.key_hash', '=', keyHash)
      .where('k.revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      key: toKey(row),
      project: toProject({ project_id: row.project_id, name: row.p_name, rpm: row.p_rpm, tpm: row.p_tpm, created_at: row.p_created_at }),
    };
  }

  /** Marks a key revoked; false when the project has no such key. */
  async revokeKey(projectId: string, keyId: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('auth_keys')
      .set({ revoked_at: at })
      .where('project_id', '=', projectId)
      .where('key_id', '=', keyId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return true;
    return !!(await this.db.selectFrom('auth_keys').select('key_id').where('project_id', '=', projectId).where('key_id', '=', keyId).executeTakeFirst());
  }

  /** Adds usage to the day's row of (project, key, model), creating it when absent: one upsert each. */
  async addUsage(deltas: UsageDelta[]): Promise<void> {
    for (const d of deltas) {
      await this.db
        .insertInto('auth_usage')
        .values({
          project_id: d.projectId,
          key_id: d.keyId ?? '',
          model: d.model,
          day: new Date(d.at).toISOString().slice(0, 10),
          requests: d.requests,
          input_tokens: d.input_tokens,
          output_tokens: d.output_tokens,
        })
        .onConflict((oc) =>
          oc.columns(['project_id', 'key_id', 'model', 'day']).doUpdateSet({
            requests: sql`auth_usage.requests + excluded.requests`,
            input_tokens: sql`auth_usage.input_tokens + excluded.input_tokens`,
            output_tokens: sql`auth_usage.output_tokens + excluded.output_tokens`,
          }),
        )
        .execute();
    }
  }

  async usage(filter: { projectId?: string; keyId?: string; model?: string; from?: string; to?: string }): Promise<UsageRow[]> {
    let q = this.db.selectFrom('auth_usage').selectAll();
    if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
    if (filter.keyId) q = q.where('key_id', '=', filter.keyId);
    if (filter.model) q = q.where('model', '=', filter.model);
    if (filter.from) q = q.where('day', '>=', filter.from);
    if (filter.to) q = q.where('day', '<=', filter.to);
    const rows = await q.orderBy('day', 'asc').orderBy('project_id', 'asc').orderBy('key_id', 'asc').orderBy('model', 'asc').execute();
    return rows.map((r) => ({
      project_id: r.project_id,
      key_id: r.key_id === '' ? null : r.key_id,
      model: r.model,
      day: r.day,
      requests: Number(r.requests),
      input_tokens: Number(r.input_tokens),
      output_tokens: Number(r.output_tokens),
    }));
  }
}

function toProject(row: any): ProjectRecord {
  return {
    project_id: row.project_id,
    name: row.name,
    rpm: row.rpm === null ? null : Number(row.rpm),
    tpm: row.tpm === null ? null : Number(row.tpm),
    created_at: Number(row.created_at),
  };
}

function toKey(row: any): KeyRecord {
  return {
    key_id: row.key_id,
    project_id: row.project_id,
    name: row.name,
    redacted_value: row.redacted_value,
    models: row.models ? (JSON.parse(row.models) as string[]) : null,
    rpm: row.rpm === null ? null : Number(row.rpm),
    tpm: row.tpm === null ? null : Number(row.tpm),
    created_at: Number(row.created_at),
    revoked_at: row.revoked_at === null || row.revoked_at === undefined ? null : Number(row.revoked_at),
  };
}
