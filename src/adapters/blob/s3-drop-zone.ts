import { ConfigurationError } from "../../domain/errors.js";
import type { DropZone } from "../../ports/drop-zone.js";
import { checkKey } from "./keys.js";
import { createS3BlobStore, lazyS3Client, type S3BlobStoreOptions } from "./s3.js";

/**
 * A drop zone in an S3 bucket (or a prefix of one): its files through the S3 blob store, uploads as
 * presigned POST forms (S3 enforces their size range and content type), object metadata by HEAD.
 */
export function createS3DropZone(options: S3BlobStoreOptions): DropZone {
  if (!options?.bucket) throw new ConfigurationError("[drop-zone:s3] missing option bucket");
  const prefix = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
  const objectKey = (key: string) => (prefix ? `${prefix}/${checkKey(key, "\0")}` : checkKey(key, "\0"));
  const files = createS3BlobStore(options);
  const { sdk, destroy } = lazyS3Client(options);

  return {
    files: {
      ...files,
      close: async () => {
        await files.close?.();
        await destroy();
      },
    },

    keyOf(bucket, key) {
      if (bucket !== options.bucket) return null;
      if (!prefix) return key;
      return key.startsWith(`${prefix}/`) ? key.slice(prefix.length + 1) : null;
    },

    async presignUpload(key, limits) {
      const { client } = await sdk();
      const { createPresignedPost } = await import("@aws-sdk/s3-presigned-post");
      const metadata = Object.fromEntries(
        Object.entries(limits.metadata).map(([name, value]) => [`x-amz-meta-${name}`, value]),
      );
      const fields = { "Content-Type": limits.contentType, ...metadata };
      const { url, fields: signed } = await createPresignedPost(client, {
        Bucket: options.bucket,
        Key: objectKey(key),
        Conditions: [
          ["content-length-range", 1, limits.maxBytes],
          ...Object.entries(fields).map(
            ([name, value]) => ["eq", `$${name}`, value] as ["eq", string, string],
          ),
        ],
        Fields: fields,
        Expires: limits.expiresSeconds,
      });
      return { url, fields: signed };
    },

    async metadata(key) {
      const { s3, client } = await sdk();
      try {
        const out = await client.send(
          new s3.HeadObjectCommand({ Bucket: options.bucket, Key: objectKey(key) }),
        );
        return out.Metadata ?? {};
      } catch (error) {
        const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404) return null;
        throw error;
      }
    },
  };
}
