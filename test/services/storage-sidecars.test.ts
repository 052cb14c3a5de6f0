import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPhotocat } from "../../src/entry/start.js";
import { sidecarKey } from "../../src/services/storage-keys.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";
import { until } from "../support/wait.js";

describe("sidecars kept beside the originals (PHOTOCAT_STORAGE_SIDECARS=on)", () => {
  let dataDir: string;
  let app: Awaited<ReturnType<typeof startPhotocat>>;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-sidecars-"));
    app = await startPhotocat({
      dataDir,
      analyser: fakeAnalyser(),
      settings: { PHOTOCAT_STORAGE_SIDECARS: "on" },
    });
  });
  afterAll(async () => {
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("writes the sidecar once the photo is described, rewrites it after an edit, and deletes it with the photo", async () => {
    const form = new FormData();
    form.append(
      "file",
      new Blob([new Uint8Array(await solidImage({ r: 5, g: 120, b: 200 }, 21))]),
      "sea.jpg",
    );
    const upload = (await (await fetch(`${app.url}/api/images`, { method: "POST", body: form })).json()) as {
      images: { id: string }[];
    };
    const id = upload.images[0]!.id;
    const { blobs, catalog } = app.running.container;
    const sidecar = async () =>
      (await blobs.stat(sidecarKey(id))) && (await blobs.get(sidecarKey(id))).toString();

    await until(async () => (await catalog.getImage(id))?.status === "done", 15_000);
    const summary = (await catalog.getImage(id))!.analysis!.summary;
    await until(async () => Boolean((await sidecar())?.includes(summary)), 15_000);
    expect((await blobs.stat(sidecarKey(id)))?.contentType).toBe("application/rdf+xml");

    await fetch(`${app.url}/api/images/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ summary: "A calm blue sea under a grey sky." }),
    });
    await until(
      async () => Boolean((await sidecar())?.includes("A calm blue sea under a grey sky.")),
      15_000,
    );
    expect(await sidecar()).not.toContain(summary);

    await fetch(`${app.url}/api/images/${id}?permanent=true`, { method: "DELETE" });
    expect(await blobs.stat(sidecarKey(id))).toBeNull();
  }, 60_000);
});
