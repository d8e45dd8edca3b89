import { z } from 'zod';

/**
 * The one error envelope (errors.ts renders every ApiError as it), as a schema: the API description
 * documents it, and the conformance suite checks real error answers against it.
 */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
