import { z } from 'zod';

export const METADATA_LIMITS = { pairs: 16, keyLength: 64, valueLength: 512 } as const;

/** `metadata` as OpenAI checks it on every object that has it: at most 16 string pairs, keys ≤ 64 and values ≤ 512 characters. */
export const metadataSchema = z
  .record(
    z.string().max(METADATA_LIMITS.keyLength, `Keys must be at most ${METADATA_LIMITS.keyLength} characters.`),
    z.string().max(METADATA_LIMITS.valueLength, `Values must be at most ${METADATA_LIMITS.valueLength} characters.`),
  )
  .refine((m) => Object.keys(m).length <= METADATA_LIMITS.pairs, {
    message: `too many properties. Expected an object with at most ${METADATA_LIMITS.pairs} properties.`,
  });

export type Metadata = Record<string, string>;
