import type { Kysely } from 'kysely';
import { isUniqueViolation, type Database } from '@rgw/shared';

export interface PromptVersionRecord {
  prompt_id: string;
  version: number;
  prompt: string;
  variables: string[];
  created_at: number;
}

/** A version together with the prompt's current default, so callers can set `is_default`. */
export interface PromptVersionView extends PromptVersionRecord {
  default_version: number;
}

export type UpdateOutcome =
  | { kind: 'updated'; record: PromptVersionView }
  | { kind: 'not_found' }
  | { kind: 'stale'; latest: number };

export type SetDefaultOutcome = { kind: 'updated'; record: PromptVersionView } | { kind: 'not_found' } | { kind: 'no_version' };

/**
 * Prompts and their versions in SQL (SQLite or Postgres, same queries). Every method acts within one
 * project: another project's prompt is as unknown as one that never existed.
 */
export class PromptStore {
  private readonly db: Kysely<any>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async create(project: string, record: PromptVersionRecord): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('prompts')
        .values({ project_id: project, prompt_id: record.prompt_id, default_version: record.version, latest_version: record.version, created_at: record.created_at })
        .execute();
      await insertVersion(trx, project, record);
    });
  }

  /** The prompt's default version when `version` is absent; undefined when either is unknown. */
  async get(project: string, promptId: string, version?: number): Promise<PromptVersionView | undefined> {
    const query = this.versionsQuery(this.db, project).where('p.prompt_id', '=', promptId);
    const row = await (version === undefined ? query.whereRef('v.version', '=', 'p.default_version') : query.where('v.version', '=', version)).executeTakeFirst();
    return row ? toView(row) : undefined;
  }

  async exists(project: string, promptId: string): Promise<boolean> {
    return !!(await this.head(this.db, project, promptId).select('prompt_id').executeTakeFirst());
  }

  /** The default version of every prompt, oldest prompt first. */
  async listDefaults(project: string): Promise<PromptVersionView[]> {
    const rows = await this.versionsQuery(this.db, project)
      .whereRef('v.version', '=', 'p.default_version')
      .orderBy('p.seq', 'asc')
      .execute();
    return rows.map(toView);
  }

  /** Every version, ascending; undefined when the prompt is unknown. */
  async listVersions(project: string, promptId: string): Promise<PromptVersionView[] | undefined> {
    const rows = await this.versionsQuery(this.db, project).where('p.prompt_id', '=', promptId).orderBy('v.version', 'asc').execute();
    if (rows.length === 0) return undefined;
    return rows.map(toView);
  }

  /**
   * Writes version `expectedLatest + 1`, only if `expectedLatest` is still the latest. The guarded
   * update of the prompt row serialises concurrent writers (the loser matches no row), and the unique
   * key on (prompt_id, version) is the last line should two ever get past it.
   */
  async addVersion(project: string, record: Omit<PromptVersionRecord, 'version'>, expectedLatest: number, setAsDefault: boolean): Promise<UpdateOutcome> {
    const version = expectedLatest + 1;
    try {
      return await this.db.transaction().execute(async (trx): Promise<UpdateOutcome> => {
        const head = await this.head(trx, project, record.prompt_id).select(['latest_version']).executeTakeFirst();
        if (!head) return { kind: 'not_found' };
        if (Number(head.latest_version) !== expectedLatest) return { kind: 'stale', latest: Number(head.latest_version) };
        const set = setAsDefault ? { latest_version: version, default_version: version } : { latest_version: version };
        const claimed = await trx
          .updateTable('prompts')
          .set(set)
          .where('project_id', '=', project)
          .where('prompt_id', '=', record.prompt_id)
          .where('latest_version', '=', expectedLatest)
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) === 0) return { kind: 'stale', latest: version };
        await insertVersion(trx, project, { ...record, version });
        const row = await this.versionsQuery(trx, project).where('p.prompt_id', '=', record.prompt_id).where('v.version', '=', version).executeTakeFirstOrThrow();
        return { kind: 'updated', record: toView(row) };
      });
    } catch (err) {
      if (isUniqueViolation(err)) return { kind: 'stale', latest: version };
      throw err;
    }
  }

  async setDefault(project: string, promptId: string, version: number): Promise<SetDefaultOutcome> {
    return this.db.transaction().execute(async (trx): Promise<SetDefaultOutcome> => {
      const head = await this.head(trx, project, promptId).select('prompt_id').executeTakeFirst();
      if (!head) return { kind: 'not_found' };
      const exists = await trx.selectFrom('prompt_versions').select('version').where('prompt_id', '=', promptId).where('version', '=', version).executeTakeFirst();
      if (!exists) return { kind: 'no_version' };
      await trx.updateTable('prompts').set({ default_version: version }).where('project_id', '=', project).where('prompt_id', '=', promptId).execute();
      const row = await this.versionsQuery(trx, project).where('p.prompt_id', '=', promptId).where('v.version', '=', version).executeTakeFirstOrThrow();
      return { kind: 'updated', record: toView(row) };
    });
  }

  async delete(project: string, promptId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // The prompt row first: its versions go only when it was this project's to delete.
      const result = await trx.deleteFrom('prompts').where('project_id', '=', project).where('prompt_id', '=', promptId).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return false;
      await trx.deleteFrom('prompt_versions').where('prompt_id', '=', promptId).execute();
      return true;
    });
  }

  /** The prompt's row, if this project's. */
  private head(db: Kysely<any>, project: string, promptId: string) {
    return db.selectFrom('prompts').where('project_id', '=', project).where('prompt_id', '=', promptId);
  }

  private versionsQuery(db: Kysely<any>, project: string) {
    return db
      .selectFrom('prompt_versions as v')
      .innerJoin('prompts as p', 'p.prompt_id', 'v.prompt_id')
      .where('p.project_id', '=', project)
      .select(['v.prompt_id', 'v.version', 'v.prompt', 'v.variables', 'v.created_at', 'p.default_version']);
  }
}

async function insertVersion(db: Kysely<any>, project: string, record: PromptVersionRecord): Promise<void> {
  await db
    .insertInto('prompt_versions')
    .values({ project_id: project, prompt_id: record.prompt_id, version: record.version, prompt: record.prompt, variables: JSON.stringify(record.variables), created_at: record.created_at })
    .execute();
}

function toView(row: Record<string, unknown>): PromptVersionView {
  return {
    prompt_id: row.prompt_id as string,
    version: Number(row.version),
    prompt: row.prompt as string,
    variables: JSON.parse(row.variables as string) as string[],
    created_at: Number(row.created_at),
    default_version: Number(row.default_version),
  };
}
