import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFsBlobStore } from "../../src/adapters/blob/fs.js";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { silentLogger } from "../../src/logger.js";
import type { DropZone } from "../../src/ports/drop-zone.js";
import { type IncomingDeps, listRejections, receiveIncoming } from "../../src/services/incoming.js";

/** A drop zone in a folder: what the S3 one does, minus presigned forms. */
function folderDropZone(root: string): DropZone {
  const files = createFsBlobStore({ root });
  return {
    files,
    keyOf: (_bucket, key) => key,
    presignUpload: () => Promise.reject(new Error("no forms in a folder")),
    metadata: async (key) => ((await files.stat(key)) ? {} : null),
  };
}

describe("the drop zone's incoming files", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "photocat-incoming-"));
  let container: Container;
  let deps: IncomingDeps;
  beforeAll(async () => {
    container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: path.join(dir, "data") }), {
      logger: silentLogger(),
    });
    deps = { dropZone: folderDropZone(path.join(dir, "zone")), ingest: container.ingestDeps, tmpDir: dir };
  });
  afterAll(async () => {
    await container.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores a photo once, however often its event comes", async () => {
    const photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#c33" } })
      .jpeg()
      .toBuffer();
    await deps.dropZone.files.put("incoming/red.jpg", photo, "image/jpeg");
    const first = await receiveIncoming(deps, container.ingestLimits, "incoming/red.jpg");
    expect(first).toMatchObject({ state: "stored", duplicate: false });
    expect(await receiveIncoming(deps, container.ingestLimits, "incoming/red.jpg")).toBeNull();
    expect(await deps.dropZone.files.stat("incoming/red.jpg")).toBeNull();
  });

  it("refuses a file over the limit by its size, without reading it, and keeps it", async () => {
    const limits = { ...container.ingestLimits, maxBytes: 1024 };
    await deps.dropZone.files.put("incoming/huge.jpg", Buffer.alloc(4096, 1), "image/jpeg");
    const files = deps.dropZone.files;
    const zone: DropZone = {
      ...deps.dropZone,
      files: { ...files, get: () => Promise.reject(new Error("a file over the limit must not be read")) },
    };
    const outcome = await receiveIncoming({ ...deps, dropZone: zone }, limits, "incoming/huge.jpg");
    expect(outcome).toMatchObject({ state: "rejected", error: { code: "file_too_large" } });
    expect(outcome?.state === "rejected" && outcome.error.message).toMatch(/over the limit of/);
    // Nothing lost: the file is still there, and the refusal is listed with its reason.
    expect(await files.stat("incoming/huge.jpg")).not.toBeNull();
    const rejections = await listRejections(deps, 10);
    expect(rejections).toEqual([expect.objectContaining({ key: "incoming/huge.jpg", name: "huge.jpg" })]);
    expect(rejections[0]?.error.code).toBe("file_too_large");
  });
});
