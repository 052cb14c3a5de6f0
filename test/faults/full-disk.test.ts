import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatedPhoto } from "./support/photos.js";
import { type ServerProcess, startServerProcess, uploadFile } from "./support/server-process.js";

/**
 * The probe of issue 14: a 40 MB tmpfs as the data folder, uploads until it is full, then a disk with
 * 0 bytes free. The server must answer 507 (never crash, never 500), report it on /healthz, and let a
 * person free space through the product: permanent delete and emptying the trash.
 */
function mountTmpfs(dir: string, options: string): string | null {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { stdio: "pipe" });
    return null;
  } catch (error) {
    return `cannot mount a tmpfs here (needs root and mount): ${String((error as Error).message).split("\n")[0]}`;
  }
}

function unmount(dir: string): void {
  try {
    execFileSync("umount", ["-l", dir], { stdio: "pipe" });
  } catch {
    // Already gone.
  }
}

const probeDir = mkdtempSync(path.join(tmpdir(), "photocat-tmpfs-probe-"));
const SKIP_REASON = mountTmpfs(probeDir, "size=1m");
unmount(probeDir);
rmSync(probeDir, { recursive: true, force: true });
if (SKIP_REASON) console.warn(`[faults] full-disk tests skipped: ${SKIP_REASON}`);

/** A real photo made bigger by bytes after its end-of-image marker (decoders ignore them). */
async function bulkyPhoto(seed: number, bytes = 900_000): Promise<Buffer> {
  const jpeg = await generatedPhoto(seed, { width: 640, height: 480 });
  return Buffer.concat([jpeg, randomBytes(Math.max(0, bytes - jpeg.length))]);
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe.skipIf(Boolean(SKIP_REASON))(
  "a full disk fails cleanly and is recoverable through the product",
  () => {
    let dataDir: string;
    let server: ServerProcess;

    beforeAll(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), "photocat-full-disk-"));
      const failed = mountTmpfs(dataDir, "size=40m");
      if (failed) throw new Error(failed);
      // The offline analyser runs too: its wasm runtime installs a handler that rethrows stray rejections.
      server = await startServerProcess({ dataDir, env: { PHOTOCAT_CONCURRENCY: "1" }, timeoutMs: 120_000 });
    });

    afterAll(async () => {
      await server?.kill();
      unmount(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("answers 507 when the disk fills, keeps serving, and recovers by deleting photos", async () => {
      const url = server.url;
      const stored: string[] = [];
      const statuses = new Map<number, number>();
      let firstFull: Record<string, unknown> | null = null;
      for (let seed = 0; seed < 120 && !firstFull; seed++) {
        const { status, body } = await uploadFile(url, {
          name: `p${seed}.jpg`,
          bytes: await bulkyPhoto(seed),
        });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 201) stored.push((body.images as { id: string }[])[0]!.id);
        if (status === 507) firstFull = body;
      }
      console.info(`[faults] full disk: ${stored.length} uploads stored before the first 507`, [...statuses]);
      expect(firstFull, "the disk never filled").not.toBeNull();
      expect((firstFull!.error as { code: string }).code).toBe("storage_full");
      expect([...statuses.keys()].every((s) => s === 201 || s === 507)).toBe(true);
      expect(stored.length).toBeGreaterThan(5);

      // Three photos go to the trash while there is still room to record it.
      for (const id of stored.slice(0, 3)) {
        expect((await fetch(`${url}/api/images/${id}`, { method: "DELETE" })).status).toBe(204);
      }

      // Now 0 bytes free: whatever was left is taken by a filler file.
      const filler = path.join(dataDir, "filler");
      const free = await statfs(dataDir);
      try {
        writeFileSync(filler, Buffer.alloc(Number(free.bavail * free.bsize)));
      } catch {
        // ENOSPC once the last block is taken: that is the point.
      }
      expect((await statfs(dataDir)).bavail).toBe(0);

      for (let i = 0; i < 3; i++) {
        const { status, body } = await uploadFile(url, {
          name: "late.jpg",
          bytes: await bulkyPhoto(1000 + i),
        });
        expect(status).toBe(507);
        expect(String((body.error as { message: string }).message)).toMatch(/storage full/);
      }
      // An edit at 0 bytes free is refused as a storage failure, never a 500 (SQLite may still have room
      // in its write-ahead log, so it may also succeed).
      const fullEdit = await fetch(`${url}/api/images/${stored[5]}`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ summary: "Edited on a full disk." }),
      });
      expect([200, 507]).toContain(fullEdit.status);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(503);
      const report = await json(health);
      expect(report.status).toBe("degraded");

      // Permanent delete works at 0 bytes free and frees its files.
      const victim = stored[3]!;
      const deleted = await fetch(`${url}/api/images/${victim}?purge=true`, { method: "DELETE" });
      expect(deleted.status).toBe(204);
      expect((await fetch(`${url}/api/images/${victim}`)).status).toBe(404);
      expect((await statfs(dataDir)).bavail).toBeGreaterThan(0);

      // Emptying the trash frees the three trashed photos.
      const emptied = await fetch(`${url}/api/trash`, { method: "DELETE" });
      expect(emptied.status).toBe(200);
      expect(await json(emptied)).toEqual({ deleted: 3 });
      for (const id of stored.slice(0, 3)) expect((await fetch(`${url}/api/images/${id}`)).status).toBe(404);

      // With the space back, an edit and an upload work again; the process never went down.
      const edit = await fetch(`${url}/api/images/${stored[4]}`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ summary: "Kept after the disk filled." }),
      });
      expect(edit.status).toBe(200);
      rmSync(filler, { force: true });
      const again = await uploadFile(url, { name: "after.jpg", bytes: await bulkyPhoto(2000) });
      expect(again.status).toBe(201);
      // /healthz keeps its answer a few seconds; it turns healthy again once it looks.
      let healthy = 0;
      for (let i = 0; i < 40 && healthy !== 200; i++) {
        healthy = (await fetch(`${url}/healthz`)).status;
        if (healthy !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(healthy).toBe(200);
      expect(server.child.exitCode).toBeNull();
      expect(server.output()).not.toMatch(/uncaught exception/i);
    });

    it("answers 503 when the upload folder is read-only, and keeps serving", async () => {
      const tmp = path.join(dataDir, "tmp");
      mkdirSync(tmp, { recursive: true });
      const failed = mountTmpfs(tmp, "ro,size=1m");
      if (failed) throw new Error(failed);
      try {
        const { status, body } = await uploadFile(server.url, {
          name: "ro.jpg",
          bytes: await bulkyPhoto(3000),
        });
        expect(status).toBe(503);
        expect((body.error as { code: string }).code).toBe("storage_unavailable");
        expect((await fetch(`${server.url}/api/images`)).status).toBe(200);
      } finally {
        unmount(tmp);
      }
      const { status } = await uploadFile(server.url, { name: "rw.jpg", bytes: await bulkyPhoto(3001) });
      expect(status).toBe(201);
      expect(server.child.exitCode).toBeNull();
    });
  },
);
