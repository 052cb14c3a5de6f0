import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createFsBlobStore } from "../../src/adapters/blob/fs.js";
import { PhotocatError } from "../../src/domain/errors.js";
import { runBlobStoreContract } from "./blob-store.contract.js";

const base = mkdtempSync(path.join(tmpdir(), "photocat-fs-blob-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

runBlobStoreContract("fs", async () => {
  const root = mkdtempSync(path.join(base, "store-"));
  return { store: createFsBlobStore({ root }), close: async () => rmSync(root, { recursive: true }) };
});

describe("fs blob store", () => {
  it("never shows a crash's leftover temporary file", async () => {
    const root = mkdtempSync(path.join(base, "crash-"));
    const store = createFsBlobStore({ root });
    await store.put("originals/a/1.jpg", Buffer.from("whole"), "image/jpeg");
    // What a crash between write and rename leaves behind.
    writeFileSync(path.join(root, "originals", "a", ".photocat-tmp-0b7e"), "half");
    const keys: string[] = [];
    for await (const key of store.list("")) keys.push(key);
    expect(keys).toEqual(["originals/a/1.jpg"]);
    await expect(store.get("originals/a/.photocat-tmp-0b7e")).rejects.toThrow(/reserved name/);
  });

  it("leaves no temporary file behind after writes", async () => {
    const root = mkdtempSync(path.join(base, "clean-"));
    const store = createFsBlobStore({ root });
    await store.put("t/a.webp", Buffer.from("x"), "image/webp");
    await store.put("t/a.webp", Buffer.from("y"), "image/webp");
    expect(readdirSync(path.join(root, "t"))).toEqual(["a.webp"]);
  });

  it("writes nothing outside its root", async () => {
    const root = path.join(base, "inner", "root");
    mkdirSync(root, { recursive: true });
    const store = createFsBlobStore({ root });
    await expect(store.put("../escaped.jpg", Buffer.from("x"), "image/jpeg")).rejects.toBeInstanceOf(
      PhotocatError,
    );
    expect(readdirSync(path.join(base, "inner"))).toEqual(["root"]);
  });

  it("says which option is missing", () => {
    expect(() => createFsBlobStore({ root: "" })).toThrow("[blob:fs] missing option root");
  });
});
