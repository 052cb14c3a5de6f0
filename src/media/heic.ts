import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { PhotocatError } from "../domain/errors.js";
import { busyError } from "./decode-slots.js";

/** RGBA pixels of a HEIC image, already rotated and mirrored as its container asks. */
export interface HeicPixels {
  width: number;
  height: number;
  data: Buffer;
  /** Every alpha value is 255: the alpha channel can be dropped. */
  opaque: boolean;
}

/** What heic-worker.ts is sent and answers. */
export interface HeicWorkerTask {
  bytes: Uint8Array;
  maxPixels: number;
}
export type HeicWorkerReply =
  | { ok: true; width: number; height: number; data: Uint8ClampedArray; opaque: boolean }
  | { ok: false; code: "corrupt_image" | "image_too_large"; message: string };

/**
 * Starts heic-worker: its compiled file beside this one (dist), or from the sources (tsx, vitest) its .ts
 * through tsx's loader, registered in the worker first (a worker does not inherit a parent's loader).
 */
function startWorker(): Worker {
  const compiled = new URL("./heic-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled);
  const tsx = import.meta.resolve("tsx/esm/api");
  const source = new URL("./heic-worker.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true });
}

/** A worker kept after a decode serves the next one without reloading libheif (~0.2 s), then goes when idle. */
const IDLE_WORKER_TTL_MS = 15_000;

let idle: { worker: Worker; timer: NodeJS.Timeout } | null = null;

function takeWorker(): Worker {
  if (idle) {
    const { worker, timer } = idle;
    idle = null;
    clearTimeout(timer);
    worker.ref();
    return worker;
  }
  return startWorker();
}

function releaseWorker(worker: Worker): void {
  if (idle) {
    void worker.terminate();
    return;
  }
  // An idle worker must not keep the CLI process alive.
  worker.unref();
  idle = { worker, timer: setTimeout(() => retireIdleWorker(worker), IDLE_WORKER_TTL_MS).unref() };
}

function retireIdleWorker(worker: Worker): void {
  if (idle?.worker === worker) idle = null;
  void worker.terminate();
}

/**
 * Decodes HEIC/HEIF (HEVC) with libheif compiled to wasm, in a worker thread.
 * Why a worker: the wasm decoder runs synchronously (1-2 s for 12 MP here) and a hostile file could make it spin;
 * on the main thread either would freeze the server. In a worker the event loop stays free, a decode over the time
 * limit is stopped by terminating the worker, and the wasm heap (which never shrinks) goes with the worker when it
 * retires after a short idle time.
 */
export function decodeHeic(
  bytes: Uint8Array,
  options: { maxPixels: number; timeoutMs: number },
): Promise<HeicPixels> {
  const worker = takeWorker();
  return new Promise((resolve, reject) => {
    let settled = false;
    const cleanUp = () => {
      settled = true;
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    const fail = (error: PhotocatError) => {
      if (settled) return;
      cleanUp();
      void worker.terminate();
      reject(error);
    };
    const onMessage = (reply: HeicWorkerReply) => {
      if (settled) return;
      cleanUp();
      releaseWorker(worker);
      if (!reply.ok) return reject(new PhotocatError(reply.code, reply.message));
      const data = Buffer.from(reply.data.buffer, reply.data.byteOffset, reply.data.byteLength);
      resolve({ width: reply.width, height: reply.height, data, opaque: reply.opaque });
    };
    const onError = (cause: Error) =>
      fail(new PhotocatError("corrupt_image", "the HEIC/HEIF decoder failed on this file", { cause }));
    const onExit = (exitCode: number) =>
      fail(new PhotocatError("corrupt_image", `the HEIC/HEIF decoder stopped (exit code ${exitCode})`));
    const timer = setTimeout(
      () =>
        fail(
          busyError(
            `the HEIC/HEIF image could not be decoded within ${Math.ceil(options.timeoutMs / 1000)} s`,
          ),
        ),
      options.timeoutMs,
    );
    worker.on("message", onMessage);
    worker.once("error", onError);
    worker.once("exit", onExit);
    worker.postMessage({ bytes, maxPixels: options.maxPixels } satisfies HeicWorkerTask);
  });
}
