import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { Config } from "../config.js";
import { errorMessage, isPhotocatError, PhotocatError } from "../domain/errors.js";
import { IMAGE_STATUSES } from "../domain/image.js";
import type { Logger } from "../logger.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { ImageEvents } from "../services/events.js";
import type { GalleryService } from "../services/gallery.js";
import { type IngestDeps, type IngestLimits, type IngestResult, ingestFile } from "../services/ingest.js";
import { originalKey, THUMBNAIL_SIZES, type ThumbnailSize, thumbnailKey } from "../services/storage-keys.js";
import { Auth } from "./auth.js";
import { openApiDocument } from "./openapi.js";
import { presentImage } from "./present.js";
import { discard, receiveUpload } from "./upload.js";
import { serveWeb } from "./web.js";

export interface AppDeps {
  config: Pick<Config, "password" | "apiTokens" | "corsOrigins" | "dataDir" | "maxUploadBytes" | "taxonomy">;
  gallery: GalleryService;
  ingestDeps: IngestDeps;
  ingestLimits: IngestLimits;
  blobs: BlobStore;
  events: ImageEvents;
  logger: Logger;
  /** Where the built gallery is; omitted in API-only deployments. */
  webRoot?: string;
  version?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

const listQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  category: z.string().max(40).optional(),
  status: z.enum(IMAGE_STATUSES as [string, ...string[]]).optional(),
  from: z.string().regex(DATE, "from must be a date such as 2024-05-01").optional(),
  to: z.string().regex(DATE, "to must be a date such as 2024-05-31").optional(),
  q: z.string().max(200).optional(),
});

const editBody = z
  .object({
    summary: z.string().max(2000).optional(),
    category: z.string().max(40).optional(),
    tags: z.array(z.string().max(100)).max(50).optional(),
    alt_text: z.string().max(1000).optional(),
  })
  .strict();

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  throw new PhotocatError("invalid_request", `${where}${issue?.message ?? "invalid request"}`);
}

function imageId(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!UUID.test(id)) throw new PhotocatError("not_found", "no photo with that id");
  return id.toLowerCase();
}

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/** The HTTP app: one object, served by Node here and by a Lambda adapter elsewhere. */
export function createApp(deps: AppDeps): Hono {
  const { config, gallery, logger } = deps;
  const auth = new Auth({ password: config.password, apiTokens: config.apiTokens });
  const app = new Hono();

  app.onError((error, c) => {
    if (isPhotocatError(error)) {
      if (error.status >= 500 && error.code !== "busy") logger.error({ err: error }, "request failed");
      // Refusals are logged too (code and message only, never content): a user's report can be traced.
      else logger.warn({ code: error.code, method: c.req.method, path: c.req.path }, error.message);
      if (error.retryAfterS !== undefined) c.header("Retry-After", String(error.retryAfterS));
      return c.json({ error: error.toJSON() }, error.status as 400);
    }
    logger.error({ err: error, path: c.req.path }, "unexpected error");
    return c.json({ error: { code: "internal", message: "internal error; see the server log" } }, 500);
  });
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  app.use("*", async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
  });
  if (config.corsOrigins.length > 0) {
    app.use("/api/*", cors({ origin: config.corsOrigins, credentials: true, maxAge: 600 }));
  }
  app.use(
    "*",
    auth.middleware(
      (p, method) =>
        p === "/healthz" ||
        p === "/api/openapi.json" ||
        p === "/api/session" ||
        (!p.startsWith("/api/") && method === "GET"),
    ),
  );

  app.get("/healthz", (c) => c.json({ status: "ok", version: deps.version ?? "dev" }));
  app.get("/api/openapi.json", (c) => c.json(openApiDocument(deps.version ?? "dev")));

  app.get("/api/session", (c) => c.json({ required: auth.required, authenticated: auth.isAuthenticated(c) }));
  app.post("/api/session", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { password?: unknown };
    if (!auth.checkPassword(body.password)) {
      await new Promise((r) => setTimeout(r, 400)); // slows password guessing
      throw new PhotocatError("unauthorized", "wrong password");
    }
    auth.startSession(c);
    return c.body(null, 204);
  });
  app.delete("/api/session", (c) => {
    auth.endSession(c);
    return c.body(null, 204);
  });

  app.get("/api/images", async (c) => {
    const q = parse(listQuery, c.req.query());
    const page = await gallery.list({
      limit: q.limit,
      cursor: q.cursor ?? null,
      category: q.category ?? null,
      status: (q.status as never) ?? null,
      from: q.from ?? null,
      to: q.to ?? null,
      q: q.q?.trim() || null,
    });
    return c.json({ items: page.items.map((i) => presentImage(i)), next_cursor: page.nextCursor });
  });

  app.post("/api/images", async (c) => {
    const files = await receiveUpload(
      c.req.raw.body as never,
      c.req.header("content-type"),
      path.join(config.dataDir, "tmp"),
      { maxFileBytes: config.maxUploadBytes, maxFiles: 200 },
    );
    if (files.length === 0)
      throw new PhotocatError("invalid_request", "no file: send photos in a field named file");
    const images: ReturnType<typeof presentImage>[] = [];
    const rejected: { name: string; error: { code: string; message: string } }[] = [];
    let created = false;
    let firstFailure: PhotocatError | undefined;
    try {
      for (const file of files) {
        try {
          if (file.tooLarge) {
            throw new PhotocatError(
              "file_too_large",
              `the file is over the limit of ${Math.round(config.maxUploadBytes / 1048576)} MB`,
            );
          }
          const result: IngestResult = await ingestFile(deps.ingestDeps, deps.ingestLimits, {
            path: file.path,
            originalName: file.name,
            sha256: file.sha256,
            consume: true,
          });
          created ||= !result.duplicate;
          images.push(presentImage(result.image, { duplicate: result.duplicate }));
        } catch (error) {
          if (!isPhotocatError(error))
            logger.error({ err: error, name: file.name }, "ingest failed unexpectedly");
          const failure = isPhotocatError(error)
            ? error
            : new PhotocatError("internal", `could not store the file: ${errorMessage(error)}`);
          rejected.push({ name: file.name.slice(0, 255), error: failure.toJSON() });
          firstFailure ??= failure;
          if (files.length === 1) throw failure;
        }
      }
    } finally {
      await discard(files);
    }
    if (images.length === 0 && firstFailure) {
      if (firstFailure.retryAfterS !== undefined) c.header("Retry-After", String(firstFailure.retryAfterS));
      const status = firstFailure.status === 503 ? 503 : 422;
      return c.json({ error: firstFailure.toJSON(), images, rejected }, status);
    }
    return c.json({ images, rejected }, created ? 201 : 200);
  });

  app.get("/api/images/:id", async (c) => c.json(presentImage(await gallery.get(imageId(c)))));
  app.patch("/api/images/:id", async (c) => {
    const body = parse(editBody, await c.req.json().catch(() => null));
    const image = await gallery.edit(imageId(c), {
      summary: body.summary,
      category: body.category,
      tags: body.tags,
      altText: body.alt_text,
    });
    return c.json(presentImage(image));
  });
  app.delete("/api/images/:id", async (c) => {
    await gallery.delete(imageId(c));
    return c.body(null, 204);
  });
  app.post("/api/images/:id/reanalyse", async (c) =>
    c.json(presentImage(await gallery.reanalyse(imageId(c))), 202),
  );

  const sendBlob = async (c: Context, key: string, download?: string) => {
    const info = await deps.blobs.stat(key);
    if (!info) throw new PhotocatError("not_found", "the file is missing");
    const etag = `"${info.etag}"`;
    const headers: Record<string, string> = {
      ETag: etag,
      "Cache-Control": "private, max-age=31536000, immutable",
      "Content-Type": info.contentType,
    };
    if (download) {
      const ascii = download.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
      headers["Content-Disposition"] =
        `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(download)}`;
    }
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    const { body } = await deps.blobs.stream(key);
    headers["Content-Length"] = String(info.size);
    return c.body(Readable.toWeb(body) as ReadableStream, 200, headers);
  };
  app.get("/api/images/:id/original", async (c) => {
    const image = await gallery.get(imageId(c));
    return sendBlob(c, originalKey(image.id, image.mediaType), image.originalName);
  });
  app.get("/api/images/:id/thumbnails/:size", async (c) => {
    const size = c.req.param("size") as ThumbnailSize;
    if (!THUMBNAIL_SIZES.includes(size))
      throw new PhotocatError("not_found", "thumbnail sizes are small and large");
    return sendBlob(c, thumbnailKey(imageId(c), size));
  });

  app.get("/api/categories", async (c) => c.json({ categories: await gallery.categories() }));
  app.get("/api/stats", async (c) => {
    const s = await gallery.stats();
    const analysed = s.byModel.reduce((n, m) => n + m.images, 0);
    return c.json({
      images: s.images,
      by_status: s.byStatus,
      input_tokens: s.inputTokens,
      output_tokens: s.outputTokens,
      cost_usd: s.costUsd,
      cost_per_photo_usd: analysed > 0 ? s.costUsd / analysed : 0,
      by_model: s.byModel.map((m) => ({
        provider: m.provider,
        model: m.model,
        images: m.images,
        cost_usd: m.costUsd,
      })),
    });
  });

  app.get("/api/events", (c) =>
    streamSSE(c, async (stream) => {
      const unsubscribe = deps.events.subscribe((event) => {
        const data = event.type === "image" ? presentImage(event.image) : { id: event.id };
        stream.writeSSE({ event: event.type, data: JSON.stringify(data) }).catch(() => {});
      });
      stream.onAbort(unsubscribe);
      while (!stream.aborted) {
        await stream.writeSSE({ event: "ping", data: "{}" });
        await stream.sleep(25_000);
      }
      unsubscribe();
    }),
  );

  if (deps.webRoot) serveWeb(app, deps.webRoot);
  else app.get("/", (c) => c.text("Photocat API. The web gallery is not built: run npm run build."));
  return app;
}

export async function readPackageVersion(root: string): Promise<string> {
  const file = path.join(root, "package.json");
  if (!existsSync(file)) return "dev";
  return (JSON.parse(await readFile(file, "utf8")) as { version?: string }).version ?? "dev";
}
