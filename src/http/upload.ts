import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import { asPhotocatError, PhotocatError, storageFailure } from "../domain/errors.js";

export interface ReceivedFile {
  name: string;
  path: string;
  size: number;
  sha256: string;
  /** Set when the file went over the size limit (its bytes were not kept). */
  tooLarge: boolean;
}

export interface UploadLimits {
  maxFileBytes: number;
  maxFiles: number;
  /**
   * An upload that sends nothing for this long is dropped (408). There is no limit on its total time:
   * a large photo over a slow link may take as long as it needs while bytes keep coming.
   */
  idleTimeoutMs?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * Streams a multipart upload's `file` parts to temporary files, hashing them on the way, so a 50 MB photo
 * is never held in memory. Other fields are ignored; unknown file fields are drained.
 */
export async function receiveUpload(
  body: WebReadableStream<Uint8Array> | null,
  contentType: string | undefined,
  tmpDir: string,
  limits: UploadLimits,
): Promise<ReceivedFile[]> {
  if (!body || !contentType?.toLowerCase().startsWith("multipart/form-data")) {
    throw new PhotocatError(
      "invalid_request",
      "send the photos as multipart/form-data in a field named file",
    );
  }
  try {
    await mkdir(tmpDir, { recursive: true });
  } catch (cause) {
    throw asPhotocatError(cause, "prepare the upload folder");
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": contentType },
      // Browsers send UTF-8 file names; busboy's default (latin1) would garble "été.jpg".
      defParamCharset: "utf8",
      limits: {
        fileSize: limits.maxFileBytes,
        files: limits.maxFiles,
        fields: 20,
        fieldSize: 1024,
        parts: limits.maxFiles + 20,
      },
    });
  } catch (cause) {
    throw new PhotocatError("invalid_request", "the multipart body is malformed", { cause });
  }
  const files: ReceivedFile[] = [];
  const writes: Promise<void>[] = [];
  let tooManyFiles = false;
  // A failed write (disk full, unwritable folder) is recorded when it happens; the rest of the body is
  // read and dropped so the client gets a clean answer (507) instead of a reset connection, and no
  // write promise is ever left rejected with nobody listening.
  let writeFailure: unknown = null;
  const stop = new AbortController();

  parser.on("file", (field, stream, info) => {
    if (field !== "file" || writeFailure) {
      stream.resume();
      return;
    }
    const received: ReceivedFile = {
      name: info.filename ?? "unnamed",
      path: path.join(tmpDir, `${randomUUID()}.upload`),
      size: 0,
      sha256: "",
      tooLarge: false,
    };
    files.push(received);
    const hash = createHash("sha256");
    stream.on("limit", () => {
      received.tooLarge = true;
    });
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received.size += chunk.length;
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    const file = createWriteStream(received.path);
    writes.push(
      new Promise<void>((resolve) => {
        file.once("finish", () => {
          received.sha256 = hash.digest("hex");
          resolve();
        });
        file.once("error", (error) => {
          writeFailure ??= error;
          counter.unpipe(file);
          counter.resume();
          resolve();
        });
        // The request was cut off: busboy destroys the part with the request's error (reported by the
        // pipeline below) without ending it.
        stream.on("error", () => {});
        stream.once("close", () => {
          if (stream.readableEnded) return;
          file.destroy();
          resolve();
        });
      }),
    );
    stream.pipe(counter).pipe(file);
  });
  parser.on("filesLimit", () => {
    tooManyFiles = true;
  });

  const idleMs = limits.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let stalled = false;
  const idle = setTimeout(() => {
    stalled = true;
    stop.abort(new Error("upload stalled"));
  }, idleMs);
  const watchdog = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      idle.refresh();
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(body), watchdog, parser, { signal: stop.signal });
    await Promise.all(writes);
    if (writeFailure) throw writeFailure;
  } catch (cause) {
    await Promise.allSettled(writes);
    await discard(files);
    if (stalled) {
      throw new PhotocatError(
        "request_timeout",
        `the upload sent nothing for ${Math.round(idleMs / 1000)} s and was dropped; send it again`,
        { cause },
      );
    }
    const storage = writeFailure ? storageFailure(writeFailure, "store the upload") : null;
    if (storage) throw storage;
    if (writeFailure) {
      throw new PhotocatError("internal", "could not write the upload to the server's disk", {
        cause: writeFailure,
      });
    }
    throw new PhotocatError(
      "invalid_request",
      "the upload was interrupted or its multipart body is malformed",
      { cause },
    );
  } finally {
    clearTimeout(idle);
  }
  if (tooManyFiles) {
    await discard(files);
    throw new PhotocatError("invalid_request", `send at most ${limits.maxFiles} files per request`);
  }
  return files;
}

export async function discard(files: readonly { path: string }[]): Promise<void> {
  await Promise.allSettled(files.map((f) => rm(f.path, { force: true })));
}

/**
 * Removes upload files a killed process left behind. Only old ones: other processes sharing the data
 * folder may be receiving uploads right now. Returns how many were removed.
 */
export async function sweepStaleUploads(tmpDir: string, maxAgeMs = 3_600_000): Promise<number> {
  const names = await readdir(tmpDir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names.filter((n) => n.endsWith(".upload"))) {
    const file = path.join(tmpDir, name);
    const info = await stat(file).catch(() => null);
    if (info && Date.now() - info.mtimeMs > maxAgeMs) {
      await rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}
