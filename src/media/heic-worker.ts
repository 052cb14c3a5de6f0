/**
 * The libheif-wasm decoder, in its own thread (started by heic.ts). One message in: the file's bytes and the
 * pixel limit; one reply out: RGBA pixels (their buffer transferred) or a refusal with a PhotocatError code.
 */
import { createRequire } from "node:module";
import { parentPort } from "node:worker_threads";
import type { HeicWorkerReply, HeicWorkerTask } from "./heic.js";

interface DecodedImage {
  width: number;
  height: number;
  decode(): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}
type DecodeAll = (input: { buffer: Uint8Array }) => Promise<DecodedImage[] & { dispose(): void }>;

// libheif-js reports problems with console.log: they are kept for the error message instead of reaching the logs.
let notes: string[] = [];
for (const level of ["log", "info", "warn", "error", "debug"] as const) {
  console[level] = (...parts: unknown[]) => {
    notes.push(
      parts
        .map((p) => (typeof p === "string" ? p : ""))
        .join(" ")
        .trim(),
    );
  };
}

// heic-decode is CommonJS without types.
const decodeAll = (createRequire(import.meta.url)("heic-decode") as { all: DecodeAll }).all;

function reason(error: unknown): string {
  const note = notes.find((n) => n.length > 0);
  return (note || (error instanceof Error && error.message) || "unknown error").split("\n")[0]!.slice(0, 200);
}

async function decode({ bytes, maxPixels }: HeicWorkerTask): Promise<HeicWorkerReply> {
  let images: Awaited<ReturnType<DecodeAll>>;
  try {
    images = await decodeAll({ buffer: bytes });
  } catch (error) {
    return {
      ok: false,
      code: "corrupt_image",
      message: `the HEIC/HEIF file could not be read (${reason(error)})`,
    };
  }
  try {
    const first = images[0];
    if (!first || !(first.width > 0 && first.height > 0)) {
      return { ok: false, code: "corrupt_image", message: "the HEIF file holds no image" };
    }
    if (first.width * first.height > maxPixels) {
      return {
        ok: false,
        code: "image_too_large",
        message: `the image has ${first.width}x${first.height} pixels, over the limit of ${Math.round(maxPixels / 1e6)} MP`,
      };
    }
    let decoded: Awaited<ReturnType<DecodedImage["decode"]>>;
    try {
      decoded = await first.decode();
    } catch (error) {
      return {
        ok: false,
        code: "corrupt_image",
        message: `the HEIC/HEIF image data is corrupt (${reason(error)})`,
      };
    }
    const { data } = decoded;
    let opaque = true;
    for (let i = 3; i < data.length; i += 4) {
      if (data[i] !== 255) {
        opaque = false;
        break;
      }
    }
    return { ok: true, width: decoded.width, height: decoded.height, data, opaque };
  } finally {
    images.dispose();
  }
}

parentPort?.on("message", async (task: HeicWorkerTask) => {
  notes = [];
  const reply = await decode(task);
  parentPort?.postMessage(reply, reply.ok ? [reply.data.buffer as ArrayBuffer] : []);
});
