import { randomBytes } from 'node:crypto';

// OpenAI's own forms: `file-…` (a hyphen), `upload_…`, `part_…`; 192 random bits like our other ids.
export const newFileId = () => `file-${randomBytes(24).toString('hex')}`;
export const newUploadId = () => `upload_${randomBytes(24).toString('hex')}`;
export const newPartId = () => `part_${randomBytes(24).toString('hex')}`;

/** Where a file's bytes live in the object store. */
export const objectKeyOf = (fileId: string) => `files/${fileId}`;
