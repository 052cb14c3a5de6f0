import type { BlobStore } from "./blob-store.js";

/** A form a browser posts one file with, straight to the store: `fields` first, then the file as `file`. */
export interface UploadForm {
  url: string;
  fields: Record<string, string>;
}

export interface UploadLimits {
  maxBytes: number;
  contentType: string;
  expiresSeconds: number;
  /** Stored with the object, as the store's metadata (ASCII: the caller encodes it). */
  metadata: Record<string, string>;
}

/**
 * A bucket (or folder of one) that files are dropped into: `incoming/` is watched (each new object is
 * ingested), `rejected/` keeps the files that were refused with their reasons, and `results/` what became
 * of each incoming file.
 */
export interface DropZone {
  readonly files: BlobStore;
  /** The zone's key for an object named by an event (bucket and full key), or null when outside the zone. */
  keyOf(bucket: string, objectKey: string): string | null;
  /** A signed form uploading one file to `key`, which the store itself holds to the limits. */
  presignUpload(key: string, limits: UploadLimits): Promise<UploadForm>;
  /** Metadata stored with an object (S3's x-amz-meta-*), or null when it does not exist. */
  metadata(key: string): Promise<Record<string, string> | null>;
}
