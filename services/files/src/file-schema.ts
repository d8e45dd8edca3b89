import { z } from 'zod';
import { cursorSchema, idSchema, InvalidRequestError } from '@rgw/shared';

/** Purposes a client may give (CreateFileRequest); the SDKs send the same list for uploads. */
export const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];

export const MIN_EXPIRES_SECONDS = 3600;
export const MAX_EXPIRES_SECONDS = 2_592_000;
/** `purpose=batch` files expire after 30 days unless told otherwise, as at OpenAI. */
export const BATCH_DEFAULT_EXPIRES_SECONDS = 30 * 24 * 3600;
/** Longest file name kept (bytes of UTF-16 are not the point: it bounds the row and the header). */
export const MAX_FILENAME_LENGTH = 512;

const purposeSchema = z.enum(FILE_PURPOSES);

export const expiresAfterSchema = z.strictObject({
  anchor: z.literal('created_at'),
  seconds: z.number().int().min(MIN_EXPIRES_SECONDS).max(MAX_EXPIRES_SECONDS),
});
export type ExpiresAfter = z.infer<typeof expiresAfterSchema>;

export const fileIdParamsSchema = z.object({ file_id: idSchema() });
export const uploadIdParamsSchema = z.object({ upload_id: idSchema() });

export const listFilesQuerySchema = z.object({
  purpose: z.string().max(64).optional(),
  after: cursorSchema.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  order: z.enum(['asc', 'desc']).default('desc'),
});
export type ListFilesQuery = z.infer<typeof listFilesQuerySchema>;

export const filenameSchema = z
  .string()
  .min(1)
  .max(MAX_FILENAME_LENGTH)
  .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'A file name may not contain control characters.');

export const createUploadSchema = z.strictObject({
  filename: filenameSchema,
  purpose: purposeSchema,
  bytes: z.number().int().min(1).max(8 * 1024 ** 3),
  mime_type: z.string().min(1).max(255),
  expires_after: expiresAfterSchema.optional(),
});

export const completeUploadSchema = z.strictObject({
  part_ids: z.array(idSchema()).max(10_000),
  md5: z.string().max(64).optional(),
});

/** The text fields of POST /v1/files, as they arrived in the form. */
export interface FileFormFields {
  purpose?: string;
  'expires_after[anchor]'?: string;
  'expires_after[seconds]'?: string;
}

export const FILE_FORM_FIELDS: readonly string[] = ['purpose', 'expires_after[anchor]', 'expires_after[seconds]'];

/**
 * POST /v1/files's form as the API description gives it (the streaming reader checks the fields
 * itself, with the same purposes and limits): `expires_after` is sent as `expires_after[anchor]` and
 * `expires_after[seconds]` (OpenAPI's deepObject form encoding).
 */
export const createFileFormSchema = z.strictObject({
  file: z.file().describe('The file; streamed into the object store as it arrives.'),
  purpose: purposeSchema,
  expires_after: expiresAfterSchema.optional(),
});

/** POST /v1/uploads/{upload_id}/parts's form, for the API description (the reader checks it). */
export const uploadPartFormSchema = z.strictObject({ data: z.file().describe('The bytes of this part.') });

/** `purpose`, checked; a missing or unknown one is a 400 naming it. */
export function parsePurpose(value: string | undefined): FilePurpose {
  if (value === undefined || value === '') throw new InvalidRequestError("Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
  const parsed = purposeSchema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidRequestError(`Invalid value for 'purpose': '${value.slice(0, 64)}'. Expected one of ${FILE_PURPOSES.join(', ')}.`, 'purpose', 'invalid_value');
  }
  return parsed.data;
}

/** The form's `expires_after[anchor]` and `expires_after[seconds]`, both or neither. */
export function parseFormExpiresAfter(fields: FileFormFields): ExpiresAfter | undefined {
  const anchor = fields['expires_after[anchor]'];
  const seconds = fields['expires_after[seconds]'];
  if (anchor === undefined && seconds === undefined) return undefined;
  if (anchor !== 'created_at') {
    throw new InvalidRequestError(`Invalid value for 'expires_after[anchor]': expected 'created_at'.`, 'expires_after[anchor]', 'invalid_value');
  }
  const n = seconds !== undefined && /^\d{1,12}$/.test(seconds) ? Number(seconds) : NaN;
  if (!(n >= MIN_EXPIRES_SECONDS && n <= MAX_EXPIRES_SECONDS)) {
    throw new InvalidRequestError(
      `Invalid value for 'expires_after[seconds]': expected an integer between ${MIN_EXPIRES_SECONDS} and ${MAX_EXPIRES_SECONDS}.`,
      'expires_after[seconds]',
      'invalid_value',
    );
  }
  return { anchor: 'created_at', seconds: n };
}

/** Seconds until a new file expires: as asked, else 30 days for batch files, else never. */
export function expirySeconds(purpose: FilePurpose, expiresAfter: ExpiresAfter | undefined): number | undefined {
  return expiresAfter?.seconds ?? (purpose === 'batch' ? BATCH_DEFAULT_EXPIRES_SECONDS : undefined);
}

// Success bodies (documentation; tolerant).
export const fileObjectSchema = z.looseObject({
  id: z.string(),
  object: z.literal('file'),
  bytes: z.number(),
  created_at: z.number(),
  expires_at: z.number().nullable(),
  filename: z.string(),
  purpose: z.string(),
  status: z.string(),
  status_details: z.string().nullable(),
});
export const fileListSchema = z.looseObject({ object: z.literal('list'), data: z.array(fileObjectSchema), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() });
export const fileDeletedSchema = z.looseObject({ id: z.string(), object: z.literal('file'), deleted: z.boolean() });
export const uploadObjectSchema = z.looseObject({
  id: z.string(),
  object: z.literal('upload'),
  status: z.enum(['pending', 'completed', 'cancelled', 'expired']),
  bytes: z.number(),
  created_at: z.number(),
  expires_at: z.number(),
  filename: z.string(),
  purpose: z.string(),
  file: fileObjectSchema.nullable(),
});
export const uploadPartSchema = z.looseObject({ id: z.string(), object: z.literal('upload.part'), created_at: z.number(), upload_id: z.string() });
