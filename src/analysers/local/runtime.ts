import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

const require = createRequire(import.meta.url);

/** Folder holding the wasm binaries of @tensorflow/tfjs-backend-wasm (shipped in the npm package). */
export const WASM_DIR = `${path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"))}/`;

/** Root of the @vladmandic/human package; its exports map hides package.json, so go up from its main file. */
export const HUMAN_DIR = path.dirname(path.dirname(require.resolve("@vladmandic/human")));

interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: object;
  userDefinedMetadata?: Record<string, object>;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Reads a tfjs model.json and its weight shards from disk: tfjs on wasm has no file system loader. */
function fileLoader(file: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = JSON.parse(await readFile(file, "utf8")) as ModelJson;
      const shards: Buffer[] = [];
      for (const group of json.weightsManifest) {
        for (const shard of group.paths) shards.push(await readFile(path.join(path.dirname(file), shard)));
      }
      const weights = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology as object,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature as object | undefined,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}

let ready: Promise<typeof tf> | null = null;

/** Puts tfjs on the wasm backend (SIMD) and teaches it to load file:// models. Once per process. */
export function tensorflow(): Promise<typeof tf> {
  ready ??= (async () => {
    tf.io.registerLoadRouter((url) => {
      const first = Array.isArray(url) ? url[0] : url;
      // tfjs tries each router in turn and skips those that return null (its typing omits that).
      if (typeof first !== "string" || !first.startsWith("file://"))
        return null as unknown as tf.io.IOHandler;
      return fileLoader(new URL(first).pathname);
    });
    setWasmPaths(WASM_DIR);
    if (!(await tf.setBackend("wasm"))) throw new Error("the tfjs wasm backend could not start");
    await tf.ready();
    tf.enableProdMode();
    return tf;
  })();
  ready.catch(() => {
    ready = null;
  });
  return ready;
}
