import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PhotocatError } from "../../src/domain/errors.js";
import { receiveUpload, sweepStaleUploads } from "../../src/http/upload.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("upload leftovers", () => {
  it("removes only old upload files that a killed process left behind", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-sweep-"));
    const old = path.join(dir, "a.upload");
    const fresh = path.join(dir, "b.upload");
    const other = path.join(dir, "keep.txt");
    for (const f of [old, fresh, other]) await writeFile(f, "x");
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(old, twoHoursAgo, twoHoursAgo);
    await utimes(other, twoHoursAgo, twoHoursAgo);
    expect(await sweepStaleUploads(dir)).toBe(1);
    expect([existsSync(old), existsSync(fresh), existsSync(other)]).toEqual([false, true, true]);
    expect(await sweepStaleUploads(path.join(dir, "missing"))).toBe(0);
  });
});

describe("slow and stalled uploads", () => {
  /** A multipart body whose file part arrives in pieces, `pauseMs` apart. */
  function slowBody(pieces: number, pauseMs: number, stallAfter?: number) {
    const boundary = "----photocat-test";
    const encoder = new TextEncoder();
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 0) {
          controller.enqueue(
            encoder.encode(
              `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.jpg"\r\n` +
                "Content-Type: image/jpeg\r\n\r\n",
            ),
          );
        }
        if (stallAfter !== undefined && sent === stallAfter) return new Promise(() => {});
        await new Promise((r) => setTimeout(r, pauseMs));
        if (sent < pieces) controller.enqueue(new Uint8Array(1024).fill(sent % 256));
        else {
          controller.enqueue(encoder.encode(`\r\n--${boundary}--\r\n`));
          controller.close();
        }
        sent++;
      },
    });
    return { stream, contentType: `multipart/form-data; boundary=${boundary}` };
  }

  it("keeps an upload going for as long as bytes keep coming (longer than the idle limit in all)", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-slow-"));
    const { stream, contentType } = slowBody(8, 60);
    const started = Date.now();
    const files = await receiveUpload(stream as never, contentType, dir, {
      maxFileBytes: 1_000_000,
      maxFiles: 2,
      idleTimeoutMs: 200,
    });
    expect(Date.now() - started).toBeGreaterThan(400);
    expect(files).toHaveLength(1);
    expect(files[0]!.size).toBe(8 * 1024);
  });

  it("drops an upload that sends nothing for the idle limit with 408, and keeps no file", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-stall-"));
    const { stream, contentType } = slowBody(8, 10, 3);
    const error = await receiveUpload(stream as never, contentType, dir, {
      maxFileBytes: 1_000_000,
      maxFiles: 2,
      idleTimeoutMs: 150,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhotocatError);
    expect((error as PhotocatError).code).toBe("request_timeout");
    expect((error as PhotocatError).status).toBe(408);
    expect(await readdir(dir)).toEqual([]);
  });

  it("answers a write failure as a storage error at once, with nothing left on disk", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-unwritable-"));
    // A file where the upload folder should be: every write in it fails (ENOTDIR), as a broken disk would.
    const notADir = path.join(dir, "tmp");
    await writeFile(notADir, "x");
    const { stream, contentType } = slowBody(4, 5);
    const error = await receiveUpload(stream as never, contentType, notADir, {
      maxFileBytes: 1_000_000,
      maxFiles: 2,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhotocatError);
    expect(await readdir(dir)).toEqual(["tmp"]);
  });
});
