import type { SelectQueryBuilder } from 'kysely';

export interface PageQuery {
  after?: string;
  before?: string;
  limit: number;
  order: 'asc' | 'desc';
}

/**
 * One page of rows ordered by `seq`, `limit + 1` rows fetched so the caller can tell `has_more`.
 * `after` / `before` are the seqs of the cursor rows (looked up by the caller; null = unknown cursor).
 * `before` pages are read nearest-to-the-cursor first and turned back into list order.
 */
export async function pageBySeq<R>(
  query: SelectQueryBuilder<any, any, R>,
  seqColumn: string,
  page: PageQuery,
  cursors: { after?: number; before?: number },
): Promise<R[]> {
  const asc = page.order === 'asc';
  let q = query;
  if (cursors.after !== undefined) q = q.where(seqColumn, asc ? '>' : '<', cursors.after);
  if (cursors.before !== undefined) q = q.where(seqColumn, asc ? '<' : '>', cursors.before);
  const backwards = cursors.before !== undefined && cursors.after === undefined;
  const rows = await q
    .orderBy(seqColumn, (asc ? !backwards : backwards) ? 'asc' : 'desc')
    .limit(page.limit + 1)
    .execute();
  if (!backwards) return rows;
  // The row past the limit proves more rows lie beyond, on the far side from the cursor: keep it last.
  const extra = rows.length > page.limit ? rows.pop()! : undefined;
  rows.reverse();
  return extra ? [...rows, extra] : rows;
}
