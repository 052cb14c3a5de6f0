import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import type { BlankEnv } from "hono/types";
import { describeIssues } from "../api/issues.js";
import { type ImageJson, presentAlbum, presentImage } from "../api/present.js";
import {
  Album,
  AlbumCreate,
  AlbumEdit,
  AlbumIdParams,
  AlbumImagesResult,
  AlbumList,
  ApiError,
  BulkRequest,
  BulkResult,
  CategoryList,
  DeletedEvent,
  DeleteQuery,
  DismissDuplicates,
  DuplicateGroups,
  DuplicatesDismissed,
  FilterQuery,
  Health,
  Image,
  ImageEdit,
  ImageIdParams,
  ImageIds,
  ImageListQuery,
  ImagePage,
  OriginalQuery,
  PlaceList,
  Rejections,
  RejectionsQuery,
  Session,
  SignIn,
  SimilarImages,
  SimilarQuery,
  Stats,
  ThumbnailParams,
  Timeline,
  TrashEmptied,
  Upload,
  UploadFailure,
  UploadIdParams,
  UploadRequest,
  UploadResult,
  UploadStatus,
} from "../api/schemas.js";
import type { Config } from "../config.js";
import { contentDisposition } from "../domain/content-disposition.js";
import { asPhotocatError, isPhotocatError, PhotocatError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { DropZone } from "../ports/drop-zone.js";
import type { MetadataWriter } from "../ports/metadata-writer.js";
import type { AlbumService } from "../services/albums.js";
import type { ImageEvents } from "../services/events.js";
import { embeddedCopy, xmpSidecar } from "../services/file-metadata.js";
import type { BulkOutcome, GalleryService } from "../services/gallery.js";
import { HealthService } from "../services/health.js";
import { listRejections, startUpload, uploadStatus } from "../services/incoming.js";
import { type IngestDeps, type IngestLimits, type IngestResult, ingestFile } from "../services/ingest.js";
import { originalKey, thumbnailKey } from "../services/storage-keys.js";
import { Auth, type SessionStore } from "./auth.js";
import { csrfProtection } from "./csrf.js";
import { JSON_BODY_LIMIT, jsonBody, SIGN_IN_BODY_LIMIT } from "./json-body.js";
import { rebindingProtection } from "./rebinding.js";
import { securityHeaders } from "./security-headers.js";
import { discard, receiveUpload } from "./upload.js";
import { serveWeb } from "./web.js";

export interface AppDeps {
  config: Pick<
    Config,
    | "password"
    | "apiTokens"
    | "corsOrigins"
    | "trustedProxy"
    | "dataDir"
    | "maxUploadBytes"
    | "taxonomy"
    | "signedDownloads"
  >;
  gallery: GalleryService;
  albums: AlbumService;
  /** Where sign-in sessions live (the catalogue). */
  sessions: SessionStore;
  ingestDeps: IngestDeps;
  ingestLimits: IngestLimits;
  blobs: BlobStore;
  /** Writes descriptions into downloaded copies (?metadata=embedded). */
  metadataWriter: MetadataWriter;
  events: ImageEvents;
  logger: Logger;
  /** The S3 drop zone browsers upload to directly (POST /api/uploads), when there is one. */
  dropZone?: DropZone | null;
  /** Where the built gallery is; omitted in API-only deployments. */
  webRoot?: string;
  version?: string;
}

/** How long a signed download URL works: enough to start the download, too short to pass around. */
const SIGNED_DOWNLOAD_SECONDS = 300;

// What the routes below declare: the OpenAPI document is generated from these, so it cannot drift.
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const ERROR_MEANINGS = {
  400: "The request is not valid (the message says why)",
  401: "Not signed in (or a wrong password or token)",
  403: "A cross-site request: its Origin is not this server's",
  404: "No such photo, file or route",
  408: "The upload sent nothing for too long",
  409: "The photo is not ready for this (for similar photos: it has no embedding until it is analysed)",
  413: "The body is too large",
  415: "The body's type is not accepted",
  422: "The file could not be stored (or, for a download, its format cannot carry the metadata)",
  429: "Too many attempts; try again later",
  500: "Something failed on the server; see its log",
  503: "Busy or unavailable; try again (after Retry-After when given)",
  507: "The storage is full",
} as const;
/** The `{"error":{"code","message"}}` answers a route can give, by status. */
const errors = <S extends keyof typeof ERROR_MEANINGS>(...statuses: S[]) =>
  Object.fromEntries(statuses.map((s) => [s, json(ApiError, ERROR_MEANINGS[s])])) as Record<
    S,
    ReturnType<typeof json<typeof ApiError>>
  >;
const noContent = (description: string) => ({ description });
const bytes = (description: string, mediaType: string) => ({
  description,
  content: { [mediaType]: { schema: { type: "string" as const, format: "binary" } } },
});
/** Errors every protected route can answer, besides its own. */
const PROTECTED = [401, 429, 500] as const;
/** What every state-changing route can also answer: cross-site requests are refused. */
const CHANGES = [403] as const;
const JSON_BODY = [400, 413, 415] as const;

/** A listing's filters as the catalogue takes them (absent: null). */
function filtersOf(q: z.output<typeof FilterQuery>) {
  return {
    category: q.category ?? null,
    status: q.status ?? null,
    from: q.from ?? null,
    to: q.to ?? null,
    q: q.q?.trim() || null,
    place: q.place ?? null,
    album: q.album?.toLowerCase() ?? null,
  };
}

/** Done ids and each other id's error, as the bulk and album answers give them. */
function idResults(outcome: BulkOutcome) {
  return {
    done: outcome.images.map((i) => i.id),
    errors: outcome.errors.map(({ id, error }) => ({ id, error: error.toJSON() })),
  };
}

/**
 * The HTTP app: one object, served by Node here and by a Lambda adapter elsewhere. Each route is a createRoute
 * (its contract: path, validation, answers) followed by its handler; /api/openapi.json is generated from them.
 */
export function createApp(deps: AppDeps): OpenAPIHono<BlankEnv> {
  const { config, gallery, logger } = deps;
  const auth = new Auth({ ...config, sessions: deps.sessions, logger });
  const app = new OpenAPIHono<BlankEnv>({
    // Every route's validation failures, in one voice: a bad path parameter is a missing thing, not a bad request.
    defaultHook: (result) => {
      if (!result.success)
        throw new PhotocatError(
          result.target === "param" ? "not_found" : "invalid_request",
          describeIssues(result.error),
        );
    },
  });

  app.onError((thrown, c) => {
    if (thrown instanceof HTTPException && thrown.status < 500) {
      // Hono's own refusals; the only one our routes reach is a JSON body that does not parse.
      const message = thrown.status === 400 ? "the body is not valid JSON" : thrown.message;
      return c.json({ error: { code: "invalid_request", message } }, thrown.status);
    }
    const error = asPhotocatError(thrown);
    if (error.code === "internal") {
      logger.error({ err: thrown, path: c.req.path }, "unexpected error");
      return c.json({ error: { code: "internal", message: "internal error; see the server log" } }, 500);
    }
    if (error.status >= 500 && error.code !== "busy")
      logger.error({ err: error, path: c.req.path }, "request failed");
    // Refusals are logged too (code and message only, never content), so a user's report can be traced;
    // at info, since guessing and probing are warned about once per burst by their own checks.
    else logger.info({ code: error.code, method: c.req.method, path: c.req.path }, error.message);
    if (error.retryAfterS !== undefined) c.header("Retry-After", String(error.retryAfterS));
    return c.json({ error: error.toJSON() }, error.status as 400);
  });
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  app.use("*", securityHeaders());
  if (config.corsOrigins.length > 0) {
    app.use("/api/*", cors({ origin: config.corsOrigins, credentials: true, maxAge: 600 }));
  }
  app.use("*", rebindingProtection({ authRequired: auth.required, logger }));
  app.use("*", csrfProtection({ ...config, logger }));
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

  // 503 when the database or photo store cannot be written (full disk, read-only mount), so a load
  // balancer or a person sees it before uploads fail.
  const healthService = new HealthService({
    catalog: deps.ingestDeps.catalog,
    blobs: deps.blobs,
    dataDir: config.dataDir,
  });
  const health = createRoute({
    method: "get",
    path: "/healthz",
    summary: "Health: the database and the photo store accept writes",
    security: [],
    responses: {
      200: json(Health, "The server is up and can store photos"),
      503: json(Health, "The database or the photo store cannot be written"),
    },
  });
  app.openapi(health, async (c) => {
    const report = await healthService.check();
    const body = { ...report, version: deps.version ?? "dev" };
    return report.status === "ok" ? c.json(body, 200) : c.json(body, 503);
  });

  const openApi = createRoute({
    method: "get",
    path: "/api/openapi.json",
    summary: "This document",
    security: [],
    responses: { 200: json(z.looseObject({ openapi: z.string() }), "The OpenAPI 3.1 document") },
  });
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.openapi(openApi, (c) => {
    document ??= app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "Photocat API",
        version: deps.version ?? "dev",
        description: 'Self-hostable AI photo catalogue. Errors are always {"error":{"code","message"}}.',
      },
      security: [{ bearer: [] }, { session: [] }, {}], // {}: a server without a password needs neither
    });
    return c.json(document, 200);
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A token from PHOTOCAT_API_TOKENS",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: "photocat_session",
  });

  const getSession = createRoute({
    method: "get",
    path: "/api/session",
    summary: "Whether a password is required and given",
    security: [],
    responses: { 200: json(Session, "The session"), ...errors(500) },
  });
  app.openapi(getSession, async (c) =>
    c.json({ ...(await auth.status(c)), direct_upload: Boolean(deps.dropZone) }, 200),
  );

  const signIn = createRoute({
    method: "post",
    path: "/api/session",
    summary: "Sign in with the password (sets the session cookie)",
    security: [],
    middleware: jsonBody(SIGN_IN_BODY_LIMIT),
    request: { body: { required: true, content: { "application/json": { schema: SignIn } } } },
    responses: { 204: noContent("Signed in"), ...errors(...JSON_BODY, 401, 429, ...CHANGES, 500) },
  });
  app.openapi(signIn, async (c) => {
    await auth.signIn(c, c.req.valid("json").password);
    return c.body(null, 204);
  });

  const signOut = createRoute({
    method: "delete",
    path: "/api/session",
    summary: "Sign out this browser (on every API process)",
    security: [],
    responses: { 204: noContent("Signed out"), ...errors(...CHANGES, 500) },
  });
  app.openapi(signOut, async (c) => {
    await auth.signOut(c);
    return c.body(null, 204);
  });

  const signOutEverywhere = createRoute({
    method: "delete",
    path: "/api/sessions",
    summary: "Sign out every browser (API tokens keep working)",
    responses: { 204: noContent("Every session ended"), ...errors(...CHANGES, ...PROTECTED) },
  });
  app.openapi(signOutEverywhere, async (c) => {
    await auth.signOutEverywhere(c);
    return c.body(null, 204);
  });

  const listImages = createRoute({
    method: "get",
    path: "/api/images",
    summary: "List photos, newest first (added or taken), with filters and search; or the trash",
    request: { query: ImageListQuery },
    responses: { 200: json(ImagePage, "A page of photos"), ...errors(400, 404, ...PROTECTED) },
  });
  app.openapi(listImages, async (c) => {
    const q = c.req.valid("query");
    const filters = filtersOf(q);
    let page: Awaited<ReturnType<typeof gallery.list>>;
    if (q.trashed === "true") {
      if (q.order || Object.values(filters).some((v) => v !== null)) {
        throw new PhotocatError(
          "invalid_request",
          "trashed=true lists the whole trash, most recently trashed first: it takes only cursor and limit",
        );
      }
      page = await gallery.listTrash({ limit: q.limit, cursor: q.cursor ?? null });
    } else {
      page = await gallery.list({
        ...filters,
        limit: q.limit,
        cursor: q.cursor ?? null,
        order: q.order ?? null,
      });
    }
    return c.json({ items: page.items.map((i) => presentImage(i)), next_cursor: page.nextCursor }, 200);
  });

  const bulkImages = createRoute({
    method: "post",
    path: "/api/images/bulk",
    summary:
      "One action on many photos: set the category, add tags, add to an album, re-analyse, trash or restore " +
      "(catalogue changes in one transaction; each id left alone is named with why)",
    middleware: jsonBody(JSON_BODY_LIMIT),
    request: { body: { required: true, content: { "application/json": { schema: BulkRequest } } } },
    responses: {
      200: json(BulkResult, "What was done, and each id left alone with why"),
      ...errors(...JSON_BODY, 404, 507, ...CHANGES, ...PROTECTED),
    },
  });
  app.openapi(bulkImages, async (c) => {
    const body = c.req.valid("json");
    const outcome = await gallery.bulk(body.ids, body);
    const images = body.action === "trash" ? [] : outcome.images.map((i) => presentImage(i));
    return c.json({ ...idResults(outcome), images }, 200);
  });

  const timeline = createRoute({
    method: "get",
    path: "/api/timeline",
    summary:
      "Photos per month taken (upload month when unknown), newest month first, for the listing's filters",
    request: { query: FilterQuery },
    responses: { 200: json(Timeline, "Months with photos"), ...errors(400, 404, ...PROTECTED) },
  });
  app.openapi(timeline, async (c) => c.json(await gallery.timeline(filtersOf(c.req.valid("query"))), 200));

  const places = createRoute({
    method: "get",
    path: "/api/places",
    summary: "Places of geotagged photos with their mean position and count, largest first",
    request: { query: FilterQuery },
    responses: { 200: json(PlaceList, "The places"), ...errors(400, 404, ...PROTECTED) },
  });
  app.openapi(places, async (c) => c.json(await gallery.places(filtersOf(c.req.valid("query"))), 200));

  const listAlbums = createRoute({
    method: "get",
    path: "/api/albums",
    summary: "Every album, by name, with its count and cover",
    responses: { 200: json(AlbumList, "The albums"), ...errors(...PROTECTED) },
  });
  app.openapi(listAlbums, async (c) => c.json((await deps.albums.list()).map(presentAlbum), 200));

  const createAlbum = createRoute({
    method: "post",
    path: "/api/albums",
    summary: "Create an album of chosen photos, or with `filters` a smart album (a saved search)",
    middleware: jsonBody(JSON_BODY_LIMIT),
    request: { body: { required: true, content: { "application/json": { schema: AlbumCreate } } } },
    responses: {
      201: json(Album, "The new album"),
      ...errors(...JSON_BODY, 507, ...CHANGES, ...PROTECTED),
    },
  });
  app.openapi(createAlbum, async (c) => {
    const body = c.req.valid("json");
    return c.json(presentAlbum(await deps.albums.create(body.name, body.filters ?? null)), 201);
  });

  const getAlbum = createRoute({
    method: "get",
    path: "/api/albums/{id}",
    summary: "One album",
    request: { params: AlbumIdParams },
    responses: { 200: json(Album, "The album"), ...errors(404, ...PROTECTED) },
  });
  app.openapi(getAlbum, async (c) =>
    c.json(presentAlbum(await deps.albums.get(c.req.valid("param").id.toLowerCase())), 200),
  );

  const editAlbum = createRoute({
    method: "patch",
    path: "/api/albums/{id}",
    summary: "Rename, choose the cover (null: the newest photo) or change a smart album's search",
    middleware: jsonBody(JSON_BODY_LIMIT),
    request: {
      params: AlbumIdParams,
      body: { required: true, content: { "application/json": { schema: AlbumEdit } } },
    },
    responses: {
      200: json(Album, "The album"),
      ...errors(...JSON_BODY, 404, 507, ...CHANGES, ...PROTECTED),
    },
  });
  app.openapi(editAlbum, async (c) => {
    const body = c.req.valid("json");
    const album = await deps.albums.update(c.req.valid("param").id.toLowerCase(), {
      name: body.name,
      coverId: body.cover,
      filters: body.filters,
    });
    return c.json(presentAlbum(album), 200);
  });

  const deleteAlbum = createRoute({
    method: "delete",
    path: "/api/albums/{id}",
    summary: "Delete an album (its photos stay in the library)",
    request: { params: AlbumIdParams },
    responses: { 204: noContent("Deleted"), ...errors(404, 507, ...CHANGES, ...PROTECTED) },
  });
  app.openapi(deleteAlbum, async (c) => {
    await deps.albums.delete(c.req.valid("param").id.toLowerCase());
    return c.body(null, 204);
  });

  for (const [method, verb] of [
    ["post", "Add photos to"],
    ["delete", "Take photos out of"],
  ] as const) {
    const route = createRoute({
      method,
      path: "/api/albums/{id}/images",
      summary: `${verb} an album of chosen photos (each id left alone is named with why)`,
      middleware: jsonBody(JSON_BODY_LIMIT),
      request: {
        params: AlbumIdParams,
        body: { required: true, content: { "application/json": { schema: ImageIds } } },
      },
      responses: {
        200: json(AlbumImagesResult, "The album, what was done, and each id left alone with why"),
        ...errors(...JSON_BODY, 404, 507, ...CHANGES, ...PROTECTED),
      },
    });
    app.openapi(route, async (c) => {
      const id = c.req.valid("param").id.toLowerCase();
      const { ids } = c.req.valid("json");
      const outcome = method === "post" ? await deps.albums.add(id, ids) : await deps.albums.remove(id, ids);
      return c.json({ album: presentAlbum(outcome.album), ...idResults(outcome) }, 200);
    });
  }

  const uploadImages = createRoute({
    method: "post",
    path: "/api/images",
    summary: "Upload photos (multipart, field `file`, repeatable); each is streamed to disk",
    request: {
      body: {
        required: true,
        content: {
          // A plain JSON schema, not zod: the body is streamed by receiveUpload, never parsed as a form.
          "multipart/form-data": {
            schema: {
              type: "object",
              properties: { file: { type: "array", items: { type: "string", format: "binary" } } },
            },
          },
        },
      },
    },
    responses: {
      201: json(UploadResult, "Something new was stored"),
      200: json(UploadResult, "Every file was stored before (duplicates)"),
      422: json(UploadFailure, "No file could be stored: the first file's error, and each file's"),
      ...errors(400, 408, 413, 415, 503, 507, ...CHANGES, ...PROTECTED),
    },
  });
  app.openapi(uploadImages, async (c) => {
    const files = await receiveUpload(
      c.req.raw.body as never,
      c.req.header("content-type"),
      path.join(config.dataDir, "tmp"),
      { maxFileBytes: config.maxUploadBytes, maxFiles: 200 },
    );
    if (files.length === 0)
      throw new PhotocatError("invalid_request", "no file: send photos in a field named file");
    const images: ImageJson[] = [];
    const rejected: { name: string; error: { code: string; message: string } }[] = [];
    let created = false;
    let firstFailure: PhotocatError | null = null;
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
          const failure = asPhotocatError(error, "store the file");
          if (!isPhotocatError(error))
            logger.error({ err: error, name: file.name }, "ingest failed unexpectedly");
          firstFailure ??= failure;
          rejected.push({ name: file.name.slice(0, 255), error: failure.toJSON() });
          if (files.length === 1) throw failure;
        }
      }
    } finally {
      await discard(files);
    }
    if (images.length === 0) {
      // Every file refused: a failing or busy server answers as itself (507, 503 with Retry-After), bad
      // files 422 with each reason.
      const first = firstFailure!;
      if (first.status >= 500) throw first;
      return c.json({ error: first.toJSON(), images, rejected }, 422);
    }
    return c.json({ images, rejected }, created ? 201 : 200);
  });

  const noDropZone = () =>
    new PhotocatError(
      "not_found",
      "direct upload is off: this server has no drop zone (PHOTOCAT_DROP_ZONE_URL)",
    );

  const createUpload = createRoute({
    method: "post",
    path: "/api/uploads",
    summary:
      "Start a direct upload: a signed form that sends one photo straight to the storage, under a key the server chooses",
    middleware: jsonBody(JSON_BODY_LIMIT),
    request: { body: { required: true, content: { "application/json": { schema: UploadRequest } } } },
    responses: {
      201: json(Upload, "The form to post the file with (fields first, then the file as `file`)"),
      ...errors(...JSON_BODY, 404, ...CHANGES, ...PROTECTED),
    },
  });
  app.openapi(createUpload, async (c) => {
    if (!deps.dropZone) throw noDropZone();
    const body = c.req.valid("json");
    const { id, form, expiresAt } = await startUpload({ dropZone: deps.dropZone }, deps.ingestLimits, {
      name: body.name,
      contentType: body.content_type,
      size: body.size,
    });
    return c.json({ id, url: form.url, fields: form.fields, expires_at: expiresAt }, 201);
  });

  const getUpload = createRoute({
    method: "get",
    path: "/api/uploads/{id}",
    summary:
      "What became of a direct upload: waiting, processing, stored (with its photo) or rejected (with why)",
    request: { params: UploadIdParams },
    responses: { 200: json(UploadStatus, "The upload's state"), ...errors(404, ...PROTECTED) },
  });
  app.openapi(getUpload, async (c) => {
    if (!deps.dropZone) throw noDropZone();
    const status = await uploadStatus({ dropZone: deps.dropZone }, c.req.valid("param").id.toLowerCase());
    return c.json(
      {
        id: status.id,
        state: status.state,
        ...(status.state === "stored" ? { image_id: status.imageId, duplicate: status.duplicate } : {}),
        ...(status.state === "rejected" ? { error: status.error } : {}),
      },
      200,
    );
  });

  const getRejections = createRoute({
    method: "get",
    path: "/api/rejections",
    summary: "Files dropped into the storage that were refused, each with why (kept under rejected/)",
    request: { query: RejectionsQuery },
    responses: { 200: json(Rejections, "The refused files"), ...errors(400, ...PROTECTED) },
  });
  app.openapi(getRejections, async (c) => {
    if (!deps.dropZone) return c.json({ items: [] }, 200);
    const items = await listRejections({ dropZone: deps.dropZone }, c.req.valid("query").limit ?? 100);
    return c.json({ items }, 200);
  });

  const getImage = createRoute({
    method: "get",
    path: "/api/images/{id}",
    summary: "One photo",
    request: { params: ImageIdParams },
    responses: { 200: json(Image, "The photo"), ...errors(404, ...PROTECTED) },
  });
  app.openapi(getImage, async (c) =>
    c.json(presentImage(await gallery.get(c.req.valid("param").id.toLowerCase())), 200),
  );

  const editImage = createRoute({
    method: "patch",
    path: "/api/images/{id}",
    summary: "Correct summary, category, tags or alt text (stored as human edits, which win over analysis)",
    middleware: jsonBody(JSON_BODY_LIMIT),
    request: {
      params: ImageIdParams,
      body: { required: true, content: { "application/json": { schema: ImageEdit } } },
    },
    responses: {
      200: json(Image, "The corrected photo"),
      ...errors(...JSON_BODY, 404, 507, ...CHANGES, ...PROTECTED),
    },
  });
  app.openapi(editImage, async (c) => {
    const body = c.req.valid("json");
    const image = await gallery.edit(c.req.valid("param").id.toLowerCase(), {
      summary: body.summary,
      category: body.category,
      tags: body.tags,
      altText: body.alt_text,
    });
    return c.json(presentImage(image), 200);
  });

  const deleteImage = createRoute({
    method: "delete",
    path: "/api/images/{id}",
    summary:
      "Move a photo to the trash (which forgives a wrong click), or with purge=true delete it for good",
    request: { params: ImageIdParams, query: DeleteQuery },
    responses: { 204: noContent("Trashed or deleted"), ...errors(400, 404, 507, ...CHANGES, ...PROTECTED) },
  });
  app.openapi(deleteImage, async (c) => {
    const id = c.req.valid("param").id.toLowerCase();
    if (c.req.valid("query").purge === "true") await gallery.delete(id);
    else await gallery.trash(id);
    return c.body(null, 204);
  });

  const restoreImage = createRoute({
    method: "post",
    path: "/api/images/{id}/restore",
    summary: "Bring a photo back from the trash",
    request: { params: ImageIdParams },
    responses: { 200: json(Image, "The restored photo"), ...errors(404, ...CHANGES, ...PROTECTED) },
  });
  app.openapi(restoreImage, async (c) =>
    c.json(presentImage(await gallery.restore(c.req.valid("param").id.toLowerCase())), 200),
  );

  const emptyTrash = createRoute({
    method: "delete",
    path: "/api/trash",
    summary:
      "Delete every photo in the trash for good (works on a full disk: files go first); photos trashed 30 days " +
      "ago are deleted for good without asking",
    responses: {
      200: json(TrashEmptied, "How many photos were deleted"),
      ...errors(507, ...CHANGES, ...PROTECTED),
    },
  });
  app.openapi(emptyTrash, async (c) => c.json({ deleted: await gallery.emptyTrash() }, 200));

  const listDuplicates = createRoute({
    method: "get",
    path: "/api/duplicates",
    summary: "Groups of near-duplicates (resized, re-compressed, converted or lightly cropped copies)",
    responses: {
      200: json(DuplicateGroups, "The groups, each with the copy to keep"),
      ...errors(...PROTECTED),
    },
  });
  app.openapi(listDuplicates, async (c) => {
    const groups = await gallery.duplicates();
    return c.json(
      { groups: groups.map((g) => ({ keep: g.keep, images: g.images.map((i) => presentImage(i)) })) },
      200,
    );
  });

  const dismissDuplicates = createRoute({
    method: "post",
    path: "/api/duplicates/dismiss",
    summary:
      "Mark photos as not duplicates of each other (a burst of similar shots): their group stops showing",
    middleware: jsonBody(JSON_BODY_LIMIT),
    request: { body: { required: true, content: { "application/json": { schema: DismissDuplicates } } } },
    responses: {
      200: json(DuplicatesDismissed, "The pairs dismissed"),
      ...errors(...JSON_BODY, 404, ...CHANGES, ...PROTECTED),
    },
  });
  app.openapi(dismissDuplicates, async (c) => {
    const ids = c.req.valid("json").ids.map((id) => id.toLowerCase());
    return c.json({ dismissed: await gallery.dismissDuplicates(ids) }, 200);
  });

  const similarImages = createRoute({
    method: "get",
    path: "/api/images/{id}/similar",
    summary:
      "More like this: the photos whose stored image embedding is nearest (cosine), nearest first, " +
      "without the photo itself or the trash; 409 while the photo has no embedding (not analysed yet)",
    request: { params: ImageIdParams, query: SimilarQuery },
    responses: {
      200: json(SimilarImages, "The nearest photos"),
      ...errors(400, 404, 409, ...PROTECTED),
    },
  });
  app.openapi(similarImages, async (c) => {
    const found = await gallery.similar(c.req.valid("param").id.toLowerCase(), c.req.valid("query").limit);
    return c.json({ items: found.map((f) => presentImage(f.image)) }, 200);
  });

  const reanalyseImage = createRoute({
    method: "post",
    path: "/api/images/{id}/reanalyse",
    summary: "Queue analysis again",
    request: { params: ImageIdParams },
    responses: { 202: json(Image, "Queued"), ...errors(404, ...CHANGES, ...PROTECTED) },
  });
  app.openapi(reanalyseImage, async (c) =>
    c.json(presentImage(await gallery.reanalyse(c.req.valid("param").id.toLowerCase())), 202),
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
    if (download) headers["Content-Disposition"] = contentDisposition(download);
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    const { body } = await deps.blobs.stream(key);
    headers["Content-Length"] = String(info.size);
    return c.body(Readable.toWeb(body) as ReadableStream, 200, headers);
  };

  const getOriginal = createRoute({
    method: "get",
    path: "/api/images/{id}/original",
    summary: "The original file, as uploaded; with metadata=embedded, a copy with the description written in",
    request: { params: ImageIdParams, query: OriginalQuery },
    responses: {
      200: bytes("The file (ETag, long cache; an embedded copy is made for each request)", "image/*"),
      302: {
        description:
          "With PHOTOCAT_SIGNED_DOWNLOADS on a store that signs URLs (S3): the file at a signed URL valid 5 minutes",
        headers: z.object({ Location: z.string() }),
      },
      304: noContent("Not modified (If-None-Match)"),
      ...errors(400, 404, 422, 503, ...PROTECTED),
    },
  });
  app.openapi(getOriginal, async (c) => {
    const image = await gallery.get(c.req.valid("param").id.toLowerCase());
    if (c.req.valid("query").metadata !== "embedded") {
      const key = originalKey(image.id, image.mediaType);
      // The file goes straight from the store: a Lambda response cannot carry more than 6 MB.
      if (deps.config.signedDownloads && deps.blobs.signedUrl) {
        const url = await deps.blobs.signedUrl(key, {
          expiresInSeconds: SIGNED_DOWNLOAD_SECONDS,
          downloadName: image.originalName,
          contentType: image.mediaType,
        });
        return c.body(null, 302, { Location: url, "Cache-Control": "private, no-store" });
      }
      return sendBlob(c, key, image.originalName);
    }
    const copy = await embeddedCopy({ blobs: deps.blobs, writer: deps.metadataWriter }, image);
    return c.body(new Uint8Array(copy), 200, {
      "Content-Type": image.mediaType,
      "Content-Length": String(copy.length),
      "Cache-Control": "private, no-cache",
      "Content-Disposition": contentDisposition(image.originalName),
    });
  });

  const getXmp = createRoute({
    method: "get",
    path: "/api/images/{id}/xmp",
    summary: "An XMP sidecar with the photo's description (dc, IPTC Core, Lightroom keywords)",
    request: { params: ImageIdParams },
    responses: {
      200: bytes("The sidecar, named after the original (name.xmp)", "application/rdf+xml"),
      ...errors(404, ...PROTECTED),
    },
  });
  app.openapi(getXmp, async (c) => {
    const image = await gallery.get(c.req.valid("param").id.toLowerCase());
    const stem = image.originalName.replace(/\.[^.]*$/, "") || "photo";
    return c.body(xmpSidecar(image), 200, {
      "Content-Type": "application/rdf+xml; charset=utf-8",
      "Cache-Control": "private, no-cache",
      "Content-Disposition": contentDisposition(`${stem}.xmp`, "attachment"),
    });
  });

  const getThumbnail = createRoute({
    method: "get",
    path: "/api/images/{id}/thumbnails/{size}",
    summary: "A WebP thumbnail without metadata",
    request: { params: ThumbnailParams },
    responses: {
      200: bytes("The thumbnail (ETag, long cache)", "image/webp"),
      304: noContent("Not modified (If-None-Match)"),
      ...errors(404, ...PROTECTED),
    },
  });
  app.openapi(getThumbnail, async (c) => {
    const { size } = c.req.valid("param");
    return sendBlob(c, thumbnailKey(c.req.valid("param").id.toLowerCase(), size));
  });

  const listCategories = createRoute({
    method: "get",
    path: "/api/categories",
    summary: "Categories with counts: the taxonomy's, then any stored one no longer in it",
    responses: { 200: json(CategoryList, "The categories"), ...errors(...PROTECTED) },
  });
  app.openapi(listCategories, async (c) => c.json({ categories: await gallery.categories() }, 200));

  const getStats = createRoute({
    method: "get",
    path: "/api/stats",
    summary: "Counts by status, tokens and cost",
    responses: { 200: json(Stats, "The statistics"), ...errors(...PROTECTED) },
  });
  app.openapi(getStats, async (c) => {
    const s = await gallery.stats();
    const analysed = s.byModel.reduce((n, m) => n + m.images, 0);
    return c.json(
      {
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
        embedding_cost_usd: s.embeddingCostUsd,
        by_embedding_model: s.byEmbeddingModel.map((m) => ({
          model: m.model,
          images: m.images,
          input_tokens: m.inputTokens,
          cost_usd: m.costUsd,
        })),
      },
      200,
    );
  });

  app.openAPIRegistry.register("DeletedEvent", DeletedEvent);
  const events = createRoute({
    method: "get",
    path: "/api/events",
    summary:
      "Server-sent events: `image` (data: an Image), `deleted` (data: a DeletedEvent), `ping` every 25 s",
    responses: {
      200: {
        description: "The event stream",
        content: { "text/event-stream": { schema: { type: "string" as const } } },
      },
      ...errors(...PROTECTED),
    },
  });
  app.openapi(events, (c) =>
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
