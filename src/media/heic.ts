import { createRequire } from "node:module";
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

type WorkerReply =
  | { ok: true; width: number; height: number; data: Uint8ClampedArray; opaque: boolean }
  | { ok: false; code: "corrupt_image" | "image_too_large"; message: string };

// Plain CommonJS evaluated in the worker, so it runs the same under tsx, vitest and the built dist.
// libheif-js reports problems with console.log; they are kept for the error message instead of reaching the logs.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
let notes = [];
for (const level of ["log", "info", "warn", "error", "debug"]) {
  console[level] = (...parts) => { notes.push(parts.map((p) => (typeof p === "string" ? p : "")).join(" ").trim()); };
}
const decodeAll = require(workerData.modulePath).all;
const reason = (error) => {
  const note = notes.find((n) => n.length > 0);
  return (note || (error && error.message) || "unknown error").split("\\n")[0].slice(0, 200);
};
async function decode({ bytes, maxPixels }) {
  let images;
  try {
    images = await decodeAll({ buffer: bytes });
  } catch (error) {
    return { ok: false, code: "corrupt_image", message: "the HEIC/HEIF file could not be read (" + reason(error) + ")" };
  }
  try {
    const first = images[0];
    if (!first || !(first.width > 0 && first.height > 0)) {
      return { ok: false, code: "corrupt_image", message: "the HEIF file holds no image" };
    }
    if (first.width * first.height > maxPixels) {
      return { ok: false, code: "image_too_large", message: "the image has " + first.width + "x" + first.height + " pixels, over the limit of " + Math.round(maxPixels / 1e6) + " MP" };
    }
    let decoded;
    try {
      decoded = await first.decode();
    } catch (error) {
      return { ok: false, code: "corrupt_image", message: "the HEIC/HEIF image data is corrupt (" + reason(error) + ")" };
    }
    const data = decoded.data;
    let opaque = true;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) { opaque = false; break; }
    return { ok: true, width: decoded.width, height: decoded.height, data, opaque };
  } finally {
    images.dispose();
  }
}
parentPort.on("message", async (task) => {
  notes = [];
  const reply = await decode(task);
  parentPort.postMessage(reply, reply.ok ? [reply.data.buffer] : []);
});
`;

/** A worker kept after a decode serves the next one without reloading libheif (~0.2 s), then goes when idle. */
const IDLE_WORKER_TTL_MS = 15_000;

let heicModulePath: string | null = null;
let idle: { worker: Worker; timer: NodeJS.Timeout } | null = null;

function takeWorker(): Worker {
  if (idle) {
    const { worker, timer } = idle;
    idle = null;
    clearTimeout(timer);
    worker.ref();
    return worker;
  }
  heicModulePath ??= createRequire(import.meta.url).resolve("heic-decode");
  return new Worker(WORKER_SOURCE, { eval: true, workerData: { modulePath: heicModulePath } });
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
    const onMessage = (reply: WorkerReply) => {
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
    worker.postMessage({ bytes, maxPixels: options.maxPixels });
  });
}
