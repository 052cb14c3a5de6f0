import { createReadStream } from "node:fs";
import { stat as fileStat, unlink } from "node:fs/promises";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { S3Client } from "@aws-sdk/client-s3";
import { contentDisposition } from "../../domain/content-disposition.js";
import { ConfigurationError, PhotocatError } from "../../domain/errors.js";
import type { BlobInfo, BlobStore } from "../../ports/blob-store.js";
import { checkKey, contentTypeForKey } from "./keys.js";

export interface S3BlobStoreOptions {
  bucket: string;
  /** Folder inside the bucket, such as "photocat" (no leading or trailing slash needed). */
  prefix?: string;
  region?: string;
  /** An S3-compatible server: MinIO, R2, Garage... */
  endpoint?: string;
  /** Needed by most S3-compatible servers (bucket in the path, not the host name). */
  forcePathStyle?: boolean;
}

type S3Module = typeof import("@aws-sdk/client-s3");

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
}

/** S3 ETags come quoted; the port's etag is the bare value. */
function bareEtag(etag: string | undefined): string {
  return (etag ?? "").replace(/^W\//, "").replaceAll('"', "");
}

/** The SDK and one client for these options, loaded on first use (the folder store never pays for them). */
export function lazyS3Client(options: Pick<S3BlobStoreOptions, "region" | "endpoint" | "forcePathStyle">) {
  let loaded: Promise<{ s3: S3Module; client: S3Client }> | null = null;
  const sdk = () => {
    loaded ??= import("@aws-sdk/client-s3").then((s3) => ({
      s3,
      client: new s3.S3Client({
        ...(options.region ? { region: options.region } : {}),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        forcePathStyle: options.forcePathStyle ?? Boolean(options.endpoint),
        // Checksums only where S3 requires them: several S3-compatible servers reject the rest.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      }),
    }));
    return loaded;
  };
  /** Closes the client's connections if it was ever made. */
  const destroy = async () => {
    if (loaded) (await loaded).client.destroy();
  };
  return { sdk, destroy };
}

/**
 * Objects in an S3 bucket (or any S3-compatible store). A PUT is atomic in S3 itself. The SDK is
 * loaded on first use, so the folder store never pays for it.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  if (!options?.bucket) throw new ConfigurationError("[blob:s3] missing option bucket");
  const bucket = options.bucket;
  const prefix = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix) checkKey(prefix, "\0");
  const objectKey = (key: string) => (prefix ? `${prefix}/${checkKey(key, "\0")}` : checkKey(key, "\0"));

  const { sdk, destroy } = lazyS3Client(options);

  const notFound = (key: string) => new PhotocatError("not_found", `no stored object ${key}`);

  async function head(key: string): Promise<BlobInfo | null> {
    const { s3, client } = await sdk();
    try {
      const out = await client.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      return {
        size: Number(out.ContentLength ?? 0),
        contentType: out.ContentType ?? contentTypeForKey(key),
        etag: bareEtag(out.ETag),
        ...(out.LastModified ? { modifiedMs: out.LastModified.getTime() } : {}),
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async function open(key: string) {
    const { s3, client } = await sdk();
    try {
      return await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
    } catch (error) {
      if (isNotFound(error)) throw notFound(key);
      throw error;
    }
  }

  return {
    kind: "s3",

    async put(key, data, contentType) {
      const Key = objectKey(key);
      const { s3, client } = await sdk();
      const type = contentType || contentTypeForKey(key);
      if (Buffer.isBuffer(data)) {
        await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key, Body: data, ContentType: type }));
      } else {
        const { size } = await fileStat(data.path);
        await client.send(
          new s3.PutObjectCommand({
            Bucket: bucket,
            Key,
            Body: createReadStream(data.path),
            ContentLength: size,
            ContentType: type,
          }),
        );
        // The object is safe in the bucket: moving means the local file goes.
        if (data.move) await unlink(data.path).catch(() => {});
      }
      const stored = await head(key);
      if (!stored) throw notFound(key);
      return stored;
    },

    async get(key) {
      const out = await open(key);
      if (!out.Body) throw notFound(key);
      return Buffer.from(await out.Body.transformToByteArray());
    },

    stat: head,

    async stream(key) {
      const out = await open(key);
      if (!out.Body) throw notFound(key);
      return {
        body:
          out.Body instanceof Readable
            ? out.Body
            : Readable.fromWeb(out.Body.transformToWebStream() as unknown as WebReadableStream),
        info: {
          size: Number(out.ContentLength ?? 0),
          contentType: out.ContentType ?? contentTypeForKey(key),
          etag: bareEtag(out.ETag),
          ...(out.LastModified ? { modifiedMs: out.LastModified.getTime() } : {}),
        },
      };
    },

    async delete(key) {
      const { s3, client } = await sdk();
      try {
        await client.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },

    async *list(listPrefix) {
      checkKey(listPrefix, "\0", { prefix: true });
      const { s3, client } = await sdk();
      const strip = prefix ? prefix.length + 1 : 0;
      let token: string | undefined;
      do {
        const out = await client.send(
          new s3.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix ? `${prefix}/${listPrefix}` : listPrefix,
            ContinuationToken: token,
          }),
        );
        for (const object of out.Contents ?? []) {
          if (object.Key) yield object.Key.slice(strip);
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    },

    async signedUrl(key, { expiresInSeconds, downloadName, contentType }) {
      const { s3, client } = await sdk();
      const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
      const command = new s3.GetObjectCommand({
        Bucket: bucket,
        Key: objectKey(key),
        ResponseContentDisposition: contentDisposition(downloadName, "attachment"),
        ResponseContentType: contentType,
      });
      return getSignedUrl(client, command, { expiresIn: expiresInSeconds });
    },

    close: destroy,
  };
}
