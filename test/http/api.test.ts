import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageJson } from "../../src/api/present.js";
import { loadConfig } from "../../src/config.js";
import { run } from "../../src/entry/runtime.js";
import { startPhotocat } from "../../src/entry/start.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";
import { HAS_TESTDATA, robustnessFiles, TESTDATA_SKIP_REASON, testdataPath } from "../support/testdata.js";

type Started = Awaited<ReturnType<typeof startPhotocat>>;

async function upload(url: string, files: { name: string; bytes: Buffer; type?: string }[], headers = {}) {
  const form = new FormData();
  for (const f of files)
    form.append("file", new Blob([new Uint8Array(f.bytes)], { type: f.type ?? "image/jpeg" }), f.name);
  const response = await fetch(`${url}/api/images`, { method: "POST", body: form, headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function waitForStatus(
  url: string,
  id: string,
  statuses: string[],
  timeoutMs = 10_000,
): Promise<ImageJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const image = (await (await fetch(`${url}/api/images/${id}`)).json()) as ImageJson;
    if (statuses.includes(image.status)) return image;
    if (Date.now() > deadline) throw new Error(`photo ${id} stayed ${image.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (!HAS_TESTDATA) console.warn(`[skip] robustness sample over HTTP: ${TESTDATA_SKIP_REASON}`);

describe("HTTP API", () => {
  let dataDir: string;
  let app: Started;
  const analyser = fakeAnalyser();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-api-"));
    app = await startPhotocat({ dataDir, analyser, settings: { PHOTOCAT_MAX_UPLOAD_MB: "1" } });
  });
  afterAll(async () => {
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers health and serves its OpenAPI document", async () => {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const doc = (await (await fetch(`${app.url}/api/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toContain("/api/images/{id}");
  });

  it("stores a new photo under a UUID, analyses it, and recognises the same bytes again", async () => {
    const bytes = await solidImage({ r: 200, g: 30, b: 30 }, 1);
    const first = await upload(app.url, [{ name: "holiday.jpg", bytes }]);
    expect(first.status).toBe(201);
    const [image] = first.body.images as ImageJson[];
    expect(image!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(image!.duplicate).toBe(false);
    expect(image!.original_name).toBe("holiday.jpg");
    expect(image!.media_type).toBe("image/jpeg");
    expect(["queued", "running", "done"]).toContain(image!.status);

    const done = await waitForStatus(app.url, image!.id, ["done"]);
    expect(done.category).toBe("food");
    expect(done.summary).toBe("A mostly red picture.");
    expect(done.analysis).toMatchObject({
      provider: "fake",
      model: "fake-1",
      input_tokens: 100,
      output_tokens: 20,
    });
    // The original name is metadata only: never given to the analyser.
    expect(JSON.stringify(analyser.calls.at(-1)?.context ?? {})).not.toContain("holiday");

    const again = await upload(app.url, [{ name: "copy.jpg", bytes }]);
    expect(again.status).toBe(200);
    expect((again.body.images as ImageJson[])[0]).toMatchObject({ id: image!.id, duplicate: true });
  });

  it("rejects bad files with a clear error and stores nothing for them", async () => {
    const before = ((await (await fetch(`${app.url}/api/stats`)).json()) as { images: number }).images;
    const text = await upload(app.url, [
      { name: "notes.jpg", bytes: Buffer.from("hello, not a photo"), type: "text/plain" },
    ]);
    expect(text.status).toBe(415);
    expect(text.body.error).toMatchObject({ code: "unsupported_media_type" });

    const jpeg = await solidImage({ r: 10, g: 10, b: 10 }, 2);
    const truncated = await upload(app.url, [{ name: "cut.jpg", bytes: jpeg.subarray(0, jpeg.length / 2) }]);
    expect(truncated.status).toBe(422);
    expect(truncated.body.error).toMatchObject({ code: "corrupt_image" });

    const noise = await sharp(
      Buffer.alloc(1200 * 1200 * 3, 7).map((_, i) => (i * 7919) % 256),
      {
        raw: { width: 1200, height: 1200, channels: 3 },
      },
    )
      .png({ compressionLevel: 0 })
      .toBuffer();
    const large = await upload(app.url, [{ name: "big.png", bytes: noise, type: "image/png" }]);
    expect(large.status).toBe(413);
    expect(large.body.error).toMatchObject({ code: "file_too_large" });

    const empty = await upload(app.url, [{ name: "empty.jpg", bytes: Buffer.alloc(0) }]);
    expect(empty.status).toBe(422);

    const after = ((await (await fetch(`${app.url}/api/stats`)).json()) as { images: number }).images;
    expect(after).toBe(before);
  });

  it("reports each file of a mixed upload, and keeps hostile names harmless", async () => {
    const good = await solidImage({ r: 20, g: 200, b: 20 }, 3, "png");
    const result = await upload(app.url, [
      { name: "../../etc/\u00e9vil<script>\u202e.png", bytes: good, type: "image/png" },
      { name: "bad.gif", bytes: Buffer.from("GIF89a broken"), type: "image/gif" },
    ]);
    expect(result.status).toBe(201);
    const [image] = result.body.images as ImageJson[];
    expect(image!.original_name).toBe("\u00e9vil<script>.png");
    expect(result.body.rejected).toEqual([
      { name: "bad.gif", error: expect.objectContaining({ code: expect.any(String) }) },
    ]);

    // Raw control characters are not allowed in multipart headers: a clear 400, nothing stored.
    const control = await upload(app.url, [{ name: "a\u0007b.png", bytes: good, type: "image/png" }]);
    expect(control.status).toBe(400);
    expect(control.body.error).toMatchObject({ code: "invalid_request" });
  });

  it("lists newest first with cursor pages and filters", async () => {
    for (let i = 0; i < 3; i++)
      await upload(app.url, [
        { name: `b${i}.jpg`, bytes: await solidImage({ r: 10, g: 10, b: 220 }, 10 + i) },
      ]);
    await app.running.worker!.drain();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = (await (await fetch(`${app.url}/api/images?limit=2${query}`)).json()) as {
        items: ImageJson[];
        next_cursor: string | null;
      };
      seen.push(...page.items.map((i) => i.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(5);

    const vehicles = (await (await fetch(`${app.url}/api/images?category=vehicles`)).json()) as {
      items: ImageJson[];
    };
    expect(vehicles.items).toHaveLength(3);
    expect(vehicles.items[0]!.original_name).toBe("b2.jpg");
    const search = (await (await fetch(`${app.url}/api/images?q=blue`)).json()) as { items: ImageJson[] };
    expect(search.items).toHaveLength(3);
    const byName = (await (await fetch(`${app.url}/api/images?q=holiday`)).json()) as { items: ImageJson[] };
    expect(byName.items.map((i) => i.original_name)).toEqual(["holiday.jpg"]);
    const bad = await fetch(`${app.url}/api/images?status=lost`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_request");

    // A category filter that names no category is a mistake to report, not an empty gallery.
    const unknown = await fetch(`${app.url}/api/images?category=nope`);
    expect(unknown.status).toBe(400);
    const unknownError = ((await unknown.json()) as { error: { code: string; message: string } }).error;
    expect(unknownError.code).toBe("invalid_request");
    expect(unknownError.message).toContain('"nope"');
    expect(unknownError.message).toMatch(/category must be one of: .*vehicles/);
    expect(unknownError.message).toMatch(/category must be one of: .*food/);

    const categories = (await (await fetch(`${app.url}/api/categories`)).json()) as {
      categories: { slug: string; count: number }[];
    };
    expect(categories.categories.find((c) => c.slug === "vehicles")?.count).toBe(3);
    expect(categories.categories.find((c) => c.slug === "people")?.count).toBe(0);
    const stats = (await (await fetch(`${app.url}/api/stats`)).json()) as Record<string, number>;
    expect(stats.input_tokens).toBe(500);
    expect(stats.cost_usd).toBeCloseTo(0.001);
    expect(stats.cost_per_photo_usd).toBeCloseTo(0.0002);
  });

  it("keeps human edits over later analysis", async () => {
    const list = (await (await fetch(`${app.url}/api/images?category=vehicles&limit=1`)).json()) as {
      items: ImageJson[];
    };
    const id = list.items[0]!.id;
    const patch = await fetch(`${app.url}/api/images/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ summary: "My blue car.", category: "objects", tags: ["Car", "Mine"] }),
    });
    expect(patch.status).toBe(200);
    const reanalysed = await fetch(`${app.url}/api/images/${id}/reanalyse`, { method: "POST" });
    expect(reanalysed.status).toBe(202);
    const done = await waitForStatus(app.url, id, ["done"]);
    expect(done).toMatchObject({ summary: "My blue car.", category: "objects", tags: ["car", "mine"] });
    expect(done.edited).toMatchObject({ category: "objects" });

    const invalid = await fetch(`${app.url}/api/images/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ category: "selfies" }),
    });
    expect(invalid.status).toBe(400);
  });

  it("serves thumbnails without metadata, with ETags and long cache headers", async () => {
    const withGps = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#336699" } })
      .withExif({ IFD0: { Make: "TestCam" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "43/1 29/1 0/1" } })
      .jpeg()
      .toBuffer();
    const { body } = await upload(app.url, [{ name: "gps.jpg", bytes: withGps }]);
    const image = (body.images as ImageJson[])[0]!;
    const thumb = await fetch(`${app.url}${image.thumbnails.small}`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/webp");
    expect(thumb.headers.get("cache-control")).toContain("max-age=31536000");
    const etag = thumb.headers.get("etag")!;
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(meta.exif).toBeUndefined();
    const cached = await fetch(`${app.url}${image.thumbnails.small}`, { headers: { "if-none-match": etag } });
    expect(cached.status).toBe(304);
    const original = await fetch(`${app.url}${image.original}`);
    expect(original.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.from(await original.arrayBuffer()).equals(withGps)).toBe(true);
  });

  it("moves a deleted photo to the trash, restores it, and deletes for good", async () => {
    const { body } = await upload(app.url, [
      { name: "gone.jpg", bytes: await solidImage({ r: 1, g: 2, b: 250 }, 40) },
    ]);
    const image = (body.images as ImageJson[])[0]!;
    const listed = async () =>
      ((await (await fetch(`${app.url}/api/images?limit=200`)).json()) as { items: ImageJson[] }).items.map(
        (i) => i.id,
      );
    const trash = async () =>
      (
        (await (await fetch(`${app.url}/api/images?trashed=true`)).json()) as { items: ImageJson[] }
      ).items.map((i) => i.id);

    expect((await fetch(`${app.url}/api/images/${image.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await listed()).not.toContain(image.id);
    expect(await trash()).toContain(image.id);
    // Still reachable by id (the trash view shows it), files kept.
    expect((await fetch(`${app.url}${image.thumbnails.small}`)).status).toBe(200);

    const restored = await fetch(`${app.url}/api/images/${image.id}/restore`, { method: "POST" });
    expect(restored.status).toBe(200);
    expect(await listed()).toContain(image.id);
    expect(await trash()).not.toContain(image.id);

    // Trash, then empty the trash: record and files are gone.
    await fetch(`${app.url}/api/images/${image.id}`, { method: "DELETE" });
    const emptied = await fetch(`${app.url}/api/trash`, { method: "DELETE" });
    expect(await emptied.json()).toEqual({ deleted: 1 });
    expect((await fetch(`${app.url}/api/images/${image.id}`)).status).toBe(404);
    expect((await fetch(`${app.url}${image.thumbnails.small}`)).status).toBe(404);
    expect((await fetch(`${app.url}/api/images/not-a-uuid`)).status).toBe(404);
  });

  it("deletes a photo for good with ?purge=true; the old ?permanent=true is refused, not taken as a trash", async () => {
    const { body } = await upload(app.url, [
      { name: "now.jpg", bytes: await solidImage({ r: 9, g: 2, b: 250 }, 40) },
    ]);
    const image = (body.images as ImageJson[])[0]!;
    const old = await fetch(`${app.url}/api/images/${image.id}?permanent=true`, { method: "DELETE" });
    expect(old.status).toBe(400);
    expect(((await old.json()) as { error: { message: string } }).error.message).toContain("permanent");
    expect(
      ((await (await fetch(`${app.url}/api/images/${image.id}`)).json()) as ImageJson).trashed_at,
    ).toBeNull();
    const response = await fetch(`${app.url}/api/images/${image.id}?purge=true`, { method: "DELETE" });
    expect(response.status).toBe(204);
    expect((await fetch(`${app.url}/api/images/${image.id}`)).status).toBe(404);
    expect((await fetch(`${app.url}${image.thumbnails.small}`)).status).toBe(404);
  });

  it("answers 400, not 500, for a malformed percent-escape in a gallery path", async () => {
    const response = await fetch(`${app.url}/%`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
  });

  it("streams photo changes as server-sent events", async () => {
    const controller = new AbortController();
    const response = await fetch(`${app.url}/api/events`, { signal: controller.signal });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = response.body!.getReader();
    const { body } = await upload(app.url, [
      { name: "live.jpg", bytes: await solidImage({ r: 250, g: 5, b: 5 }, 41) },
    ]);
    const id = (body.images as ImageJson[])[0]!.id;
    let received = "";
    while (!received.includes(`"status":"done"`) || !received.includes(id)) {
      const { value, done } = await reader.read();
      if (done) break;
      received += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(received).toContain("event: image");
    expect(received).toContain(id);
  });

  it.skipIf(!HAS_TESTDATA)(
    "answers every sampled robustness file of the test collection within 10 s",
    async () => {
      const sample = robustnessFiles().filter((_, i) => i % 6 === 0);
      expect(sample.length).toBeGreaterThan(10);
      for (const row of sample) {
        const started = Date.now();
        const bytes = await readFile(testdataPath(row.path));
        const result = await upload(app.url, [
          { name: path.basename(row.path), bytes, type: "application/octet-stream" },
        ]);
        expect(Date.now() - started, row.path).toBeLessThan(10_000);
        if (result.status >= 400) {
          expect([413, 415, 422], row.path).toContain(result.status);
          expect((result.body.error as { message: string }).message.length, row.path).toBeGreaterThan(10);
        } else {
          expect([200, 201], row.path).toContain(result.status);
        }
      }
    },
    120_000,
  );

  it("without a password, answers only requests addressed to a loopback name (DNS rebinding)", async () => {
    const { port } = new URL(app.url);
    const get = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          { host: "127.0.0.1", port, path: "/api/images", headers: { host } },
          (response) => {
            let body = "";
            response.on("data", (chunk: Buffer) => {
              body += chunk.toString();
            });
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        request.on("error", reject);
        request.end();
      });
    const rebound = await get(`attacker.example:${port}`);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.code).toBe("forbidden");
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await get(host)).status, host).toBe(200);
    }
  });

  it("sends security headers and no CORS by default", async () => {
    const response = await fetch(`${app.url}/api/images`, { headers: { origin: "https://evil.example" } });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("content-security-policy")).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
        "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    // The gallery page and error answers carry them too.
    for (const other of [await fetch(`${app.url}/`), await fetch(`${app.url}/api/images/nope`)]) {
      expect(other.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(other.headers.get("x-frame-options")).toBe("DENY");
    }
  });
});

describe("HTTP API with a password", () => {
  let dataDir: string;
  let app: Started;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-auth-"));
    app = await startPhotocat({
      dataDir,
      analyser: fakeAnalyser(),
      worker: false,
      settings: {
        PHOTOCAT_PASSWORD: "correct horse",
        PHOTOCAT_API_TOKENS: "token-0123456789abcdef",
        PHOTOCAT_CORS_ORIGINS: "https://app.example",
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("requires the password or a token", async () => {
    expect((await fetch(`${app.url}/api/images`)).status).toBe(401);
    expect(await (await fetch(`${app.url}/api/session`)).json()).toEqual({
      required: true,
      authenticated: false,
      direct_upload: false,
    });
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const wrong = await fetch(`${app.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: "no" }),
    });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${app.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: "correct horse" }),
    });
    expect(login.status).toBe(204);
    const cookie = login.headers.get("set-cookie")!;
    expect(cookie).toContain("HttpOnly");
    const withCookie = await fetch(`${app.url}/api/images`, { headers: { cookie: cookie.split(";")[0]! } });
    expect(withCookie.status).toBe(200);
    const forged = await fetch(`${app.url}/api/images`, {
      headers: { cookie: "photocat_session=v1.99999999999999.abc" },
    });
    expect(forged.status).toBe(401);
    const withToken = await fetch(`${app.url}/api/images`, {
      headers: { authorization: "Bearer token-0123456789abcdef" },
    });
    expect(withToken.status).toBe(200);
    expect((await fetch(`${app.url}/api/images`, { headers: { authorization: "Bearer nope" } })).status).toBe(
      401,
    );
  });

  it("allows only the configured CORS origins", async () => {
    const allowed = await fetch(`${app.url}/api/images`, {
      headers: { origin: "https://app.example", authorization: "Bearer token-0123456789abcdef" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const other = await fetch(`${app.url}/api/images`, {
      headers: { origin: "https://evil.example", authorization: "Bearer token-0123456789abcdef" },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses to listen on a public address without a password", async () => {
    const config = loadConfig({}, { PHOTOCAT_HOST: "0.0.0.0", PHOTOCAT_DATA_DIR: dataDir });
    await expect(run(config, { http: true, worker: false })).rejects.toThrow(/PHOTOCAT_PASSWORD/);
  });
});

describe("HTTP API validation messages", () => {
  let dataDir: string;
  let app: Started;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-messages-"));
    app = await startPhotocat({ dataDir, analyser: fakeAnalyser(), worker: false });
  });
  afterAll(async () => {
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const messageOf = async (response: Response) => {
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("invalid_request");
    return error.message;
  };

  it("says what is wrong in sentences, not in zod's words", async () => {
    for (const limit of ["abc", "0", "201", "2.5"]) {
      expect(await messageOf(await fetch(`${app.url}/api/images?limit=${limit}`))).toBe(
        "limit must be a whole number from 1 to 200",
      );
    }
    expect(await messageOf(await fetch(`${app.url}/api/images?status=lost`))).toBe(
      "status must be one of: queued, running, done, failed",
    );
    expect(await messageOf(await fetch(`${app.url}/api/images?from=yesterday`))).toBe(
      "from must be a date such as 2024-05-01",
    );
    const patch = (body: unknown) =>
      fetch(`${app.url}/api/images/00000000-0000-4000-8000-000000000000`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    expect(await messageOf(await patch({ summary: 3, tags: "car" }))).toBe(
      "summary must be text; tags must be a list",
    );
    expect(await messageOf(await patch({ colour: "red" }))).toBe("unknown field colour");
    expect(await messageOf(await patch({ tags: Array(51).fill("a") }))).toBe(
      "tags must be a list of at most 50 items",
    );
    expect(await messageOf(await patch("{not json"))).toBe("the body is not valid JSON");
    const both = await messageOf(await fetch(`${app.url}/api/images?limit=x&status=y`));
    expect(both).toBe(
      "limit must be a whole number from 1 to 200; status must be one of: queued, running, done, failed",
    );
    expect(both).not.toMatch(/expected|received|Invalid|NaN/);
  });
});
