import { InvalidRequestError, ApiError, validateInputItem } from '@rgw/shared';
import type { ResponseItem } from '../wire/response-types.js';

/**
 * A stored response in a conversation appends its input to it once it finishes, and by then a
 * refusal can only be logged: the client has its answer and the conversation silently misses the
 * turn. So what the conversation would refuse is refused here, before the response runs (and before
 * any byte streams): every input item, in the exact form that will be appended, must pass the
 * Conversations API's own item check (the shared item model). Input the client typed passed it
 * already; this catches items brought in by `item_reference` from stored responses. Items already in
 * the conversation are refused when the context is assembled (checkNoDuplicates).
 */
export function checkAppendable(input: readonly ResponseItem[], append: { conversationId: string | null; store: boolean | null | undefined }): void {
  if (!append.conversationId || append.store === false) return;
  input.forEach((item, index) => {
    try {
      validateInputItem(item, `input[${index}]`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      throw new InvalidRequestError(
        `Item '${item.id}' (${item.type}) cannot be added to conversation '${append.conversationId}': ${err.message}`,
        err.param ?? `input[${index}]`,
        'item_not_appendable',
      );
    }
  });
}
