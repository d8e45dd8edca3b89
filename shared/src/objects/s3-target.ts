import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { s3Call } from './s3-errors.js';

/** The bucket an S3 store works in, plus what it has learnt about the server. */
export interface S3Target {
  client: S3Client;
  bucket: string;
  /** Whether the server implements UploadPartCopy (some emulators do not); learnt on first use. */
  partCopy: 'unknown' | 'yes' | 'no';
}

/** Every key under `prefix`, paging through ListObjectsV2. */
export async function* listKeys(target: S3Target, prefix: string): AsyncIterable<string> {
  let token: string | undefined;
  do {
    const page = await s3Call(prefix, () =>
      target.client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, ContinuationToken: token })),
    );
    for (const item of page.Contents ?? []) if (item.Key) yield item.Key;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Deletes every object under `prefix` (the temporary parts of one upload: a handful). */
export async function deletePrefix(target: S3Target, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const key of listKeys(target, prefix)) keys.push(key);
  for (const key of keys) await s3Call(key, () => target.client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key })));
}
