import { NotFoundError } from '@rgw/shared';

/** The one 404 for a response id that names no (visible) response, whichever endpoint was asked. */
export function responseNotFound(id: string): NotFoundError {
  return new NotFoundError(`Response with id '${id}' not found.`, 'response_id', 'not_found');
}
