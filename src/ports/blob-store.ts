import type { Readable } from "node:stream";

export interface BlobInfo {
  size: number;
  contentType: string;
  /** Changes whenever the bytes change; used for HTTP ETags. */
  etag: string;
  /** When the object was last written (epoch ms), where the store knows. */
  modifiedMs?: number;
}

export interface SignedUrlOptions {
  expiresInSeconds: number;
  downloadName: string;
  contentType: string;
}

/**
 * Where originals and thumbnails live (a folder, S3...). Keys are relative paths such as
 * `originals/3f/3f2c....jpg`. Writes are atomic: a reader sees the whole object or none of it.
 */
export interface BlobStore {
  readonly kind: string;
  /** Stores bytes, or a local file (moved when `move` is set and the store is on the same disk). */
  put(key: string, data: Buffer | { path: string; move?: boolean }, contentType: string): Promise<BlobInfo>;
  get(key: string): Promise<Buffer>;
  /** Null when the key does not exist. */
  stat(key: string): Promise<BlobInfo | null>;
  stream(key: string): Promise<{ body: Readable; info: BlobInfo }>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<string>;
  /**
   * A URL that downloads the object without credentials until it expires, as an attachment named
   * `downloadName` and typed `contentType`. Only stores reachable by the browser (S3) have it.
   */
  signedUrl?(key: string, options: SignedUrlOptions): Promise<string>;
  close?(): Promise<void>;
}
