import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { PhotocatError } from "../../src/domain/errors.js";
import type { BlobStore } from "../../src/ports/blob-store.js";

export interface BlobStoreHarness {
  store: BlobStore;
  close(): Promise<void>;
}

async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  return promise.then(
    () => null,
    (error: unknown) => (error instanceof PhotocatError ? error.code : `not a PhotocatError: ${error}`),
  );
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of iterable) keys.push(key);
  return keys.sort();
}

async function readAll(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

export const HOSTILE_KEYS = [
  "",
  "/etc/passwd",
  "../outside.jpg",
  "originals/../../outside.jpg",
  "originals/./a.jpg",
  "originals//a.jpg",
  "originals\\..\\a.jpg",
  "originals/a\0.jpg",
  "C:/windows/a.jpg",
];

/** The behaviour every BlobStore adapter must show. `makeStore` gives an empty store each time. */
export function runBlobStoreContract(name: string, makeStore: () => Promise<BlobStoreHarness>) {
  describe(`BlobStore contract: ${name}`, () => {
    let harness: BlobStoreHarness;
    let store: BlobStore;
    const scratch = mkdtempSync(path.join(tmpdir(), "photocat-blob-src-"));

    beforeEach(async () => {
      harness = await makeStore();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.close();
    });
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    it("stores bytes and reads them back with size, type and etag", async () => {
      const bytes = randomBytes(70_000);
      const put = await store.put("originals/3f/3f2c.jpg", bytes, "image/jpeg");
      expect(put).toMatchObject({ size: bytes.length, contentType: "image/jpeg" });
      expect(put.etag).toEqual(expect.any(String));
      expect((await store.get("originals/3f/3f2c.jpg")).equals(bytes)).toBe(true);
      expect(await store.stat("originals/3f/3f2c.jpg")).toEqual(put);
      const { body, info } = await store.stream("originals/3f/3f2c.jpg");
      expect(info).toEqual(put);
      expect((await readAll(body)).equals(bytes)).toBe(true);
    });

    it("names content types by extension", async () => {
      const types: Record<string, string> = {
        "t/a.webp": "image/webp",
        "t/a.png": "image/png",
        "t/a.gif": "image/gif",
        "t/a.avif": "image/avif",
        "t/a.heic": "image/heic",
        "t/a.tiff": "image/tiff",
        "t/a.json": "application/json",
      };
      for (const [key, type] of Object.entries(types)) {
        expect((await store.put(key, Buffer.from("x"), type)).contentType).toBe(type);
        expect((await store.stat(key))?.contentType).toBe(type);
      }
    });

    it("replaces an object whole and changes its etag", async () => {
      const first = await store.put("thumbnails/a/small.webp", Buffer.alloc(10, 1), "image/webp");
      const second = await store.put("thumbnails/a/small.webp", Buffer.alloc(10, 2), "image/webp");
      expect(second.etag).not.toBe(first.etag);
      expect(await store.get("thumbnails/a/small.webp")).toEqual(Buffer.alloc(10, 2));
    });

    it("never shows a reader part of an object", async () => {
      const size = 512 * 1024;
      await store.put("originals/big.jpg", Buffer.alloc(size, "a"), "image/jpeg");
      const writes = Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store.put("originals/big.jpg", Buffer.alloc(size, i % 2 ? "a" : "b"), "image/jpeg"),
        ),
      );
      const reads = Promise.all(Array.from({ length: 12 }, () => store.get("originals/big.jpg")));
      const [, seen] = await Promise.all([writes, reads]);
      for (const bytes of seen) {
        expect(bytes.length).toBe(size);
        expect(bytes.every((b) => b === bytes[0])).toBe(true);
      }
    });

    it("stores a local file by copying, or moving it when asked", async () => {
      const source = path.join(scratch, `upload-${Date.now()}.jpg`);
      writeFileSync(source, Buffer.from("jpeg bytes"));
      await store.put("originals/copied.jpg", { path: source }, "image/jpeg");
      expect(existsSync(source)).toBe(true);
      const moved = await store.put("originals/moved.jpg", { path: source, move: true }, "image/jpeg");
      expect(moved.size).toBe(10);
      expect(existsSync(source)).toBe(false);
      expect((await store.get("originals/moved.jpg")).toString()).toBe("jpeg bytes");
      expect((await store.get("originals/copied.jpg")).toString()).toBe("jpeg bytes");
    });

    it("reports missing objects clearly", async () => {
      expect(await store.stat("originals/none.jpg")).toBeNull();
      expect(await codeOf(store.get("originals/none.jpg"))).toBe("not_found");
      expect(await codeOf(store.stream("originals/none.jpg"))).toBe("not_found");
      await store.put("originals/folder/a.jpg", Buffer.from("x"), "image/jpeg");
      expect(await store.stat("originals/folder")).toBeNull();
    });

    it("refuses keys that could escape the store", async () => {
      for (const key of HOSTILE_KEYS) {
        expect(await codeOf(store.put(key, Buffer.from("x"), "image/jpeg")), key).toBe("invalid_request");
        expect(await codeOf(store.get(key)), key).toBe("invalid_request");
        expect(await codeOf(store.stat(key)), key).toBe("invalid_request");
        expect(await codeOf(store.delete(key)), key).toBe("invalid_request");
      }
      expect(await codeOf(collect(store.list("../")))).toBe("invalid_request");
    });

    it("lists keys under a prefix", async () => {
      for (const key of [
        "originals/ab/1.jpg",
        "originals/ab/2.png",
        "originals/b/3.jpg",
        "thumbs/ab/1.webp",
      ]) {
        await store.put(key, Buffer.from(key), "application/octet-stream");
      }
      expect(await collect(store.list("originals/"))).toEqual([
        "originals/ab/1.jpg",
        "originals/ab/2.png",
        "originals/b/3.jpg",
      ]);
      expect(await collect(store.list("originals/a"))).toEqual(["originals/ab/1.jpg", "originals/ab/2.png"]);
      expect(await collect(store.list("originals/ab/2"))).toEqual(["originals/ab/2.png"]);
      expect(await collect(store.list(""))).toHaveLength(4);
      expect(await collect(store.list("nothing/"))).toEqual([]);
    });

    it("signs download URLs that give the bytes, where the store can", async (ctx) => {
      if (!store.signedUrl) {
        console.warn(`[skip] ${name} blob store: no signedUrl (only stores the browser can reach sign URLs)`);
        ctx.skip();
        return;
      }
      await store.put("originals/signed.jpg", Buffer.from("signed bytes"), "image/jpeg");
      const options = { expiresInSeconds: 60, downloadName: "a.jpg", contentType: "image/jpeg" };
      const response = await fetch(await store.signedUrl("originals/signed.jpg", options));
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).toString()).toBe("signed bytes");
      for (const key of HOSTILE_KEYS) {
        expect(await codeOf(store.signedUrl(key, options)), key).toBe("invalid_request");
      }
    });

    it("deletes, and deleting a missing key is fine", async () => {
      await store.put("originals/gone.jpg", Buffer.from("x"), "image/jpeg");
      await store.delete("originals/gone.jpg");
      expect(await store.stat("originals/gone.jpg")).toBeNull();
      await store.delete("originals/gone.jpg");
      await store.delete("never/was.jpg");
      expect(await collect(store.list("originals/"))).toEqual([]);
    });
  });
}
