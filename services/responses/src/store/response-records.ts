import type { Principal } from '@rgw/shared';
import type { ResponseObject, ResponseStatus } from '../wire/response-types.js';

/** What a background run needs besides the Response object and its input items. */
export interface StoredRequest {
  /** The validated request body without `input` (its items are stored as rows). */
  body: Record<string, unknown>;
  include: string[];
  /** The create request's x-request-id, so a background run's calls to other services can be traced to it. */
  requestId?: string;
  /**
   * Whom the response was created for: its row's project, and the principal a background run signs its
   * calls to the other services with (absent: the open default project, as for rows from before keys).
   */
  principal?: Principal;
}

export interface ResponseRecord {
  response: ResponseObject;
  request: StoredRequest;
  deleted: boolean;
  /** The project the response belongs to. */
  project: string;
}

/**
 * Which project's rows a read may see: a project id (every read on behalf of a client), or
 * ANY_PROJECT for the process-internal work that acts for the row's own project (a background run,
 * the reaper), which reaches a response by the id of its own job.
 */
export const ANY_PROJECT = Symbol('any project');
export type ProjectScope = string | typeof ANY_PROJECT;

/** Who runs a response and until when (ms since the epoch) that holds unless renewed. */
export interface Lease {
  owner: string;
  until: number;
}

/** A conversation append owed by a finished response (see OutboxStore). */
export interface OutboxRecord {
  conversationId: string;
  items: readonly unknown[];
  /** Whom the append is delivered as (the response's principal; absent: the open default project). */
  principal?: Principal;
}

/** What finishes a response in one write (see `finish`). */
export interface FinishWrite {
  /** The response's project (its output item rows carry it). */
  project: string;
  /** Only when the stored status is one of these (a cancel or a takeover may have ended it meanwhile). */
  ifStatus: readonly ResponseStatus[];
  /** Output items not stored yet, at their positions from `from`. */
  output?: { from: number; items: readonly { id: string }[] };
  outbox?: OutboxRecord;
}

export interface PageQuery {
  after?: string;
  before?: string;
  limit: number;
  order: 'asc' | 'desc';
}
