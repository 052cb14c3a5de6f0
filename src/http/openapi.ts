/** A hand-kept OpenAPI 3.1 description of the API, served at /api/openapi.json. */
export function openApiDocument(version: string) {
  const error = { $ref: "#/components/schemas/Error" };
  const image = { $ref: "#/components/schemas/Image" };
  const json = (schema: object) => ({ content: { "application/json": { schema } } });
  const idParam = { name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } };
  const errors = { default: { description: "An error", ...json(error) } };
  return {
    openapi: "3.1.0",
    info: {
      title: "Photocat API",
      version,
      description: "Self-hostable AI photo catalogue. Errors are always {error:{code,message}}.",
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A token from PHOTOCAT_API_TOKENS" },
        session: { type: "apiKey", in: "cookie", name: "photocat_session" },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: { code: { type: "string" }, message: { type: "string" } },
            },
          },
        },
        Image: {
          type: "object",
          properties: {
            id: { type: "string", format: "uuid" },
            status: { enum: ["queued", "running", "done", "failed"] },
            duplicate: { type: "boolean", description: "on upload only" },
            original_name: { type: "string" },
            media_type: { type: "string" },
            width: { type: "integer" },
            height: { type: "integer" },
            taken_at: { type: ["string", "null"] },
            camera: { type: ["string", "null"] },
            place: { type: ["string", "null"] },
            summary: { type: ["string", "null"] },
            category: { type: ["string", "null"] },
            tags: { type: "array", items: { type: "string" } },
            alt_text: { type: ["string", "null"] },
            text: { type: ["string", "null"] },
            error: { type: ["string", "null"] },
            edited: { type: ["object", "null"] },
            thumbhash: { type: ["string", "null"] },
            thumbnails: {
              type: "object",
              properties: { small: { type: "string" }, large: { type: "string" } },
            },
            original: { type: "string" },
            analysis: {
              type: ["object", "null"],
              properties: {
                provider: { type: "string" },
                model: { type: "string" },
                prompt_version: { type: "string" },
                input_tokens: { type: "integer" },
                output_tokens: { type: "integer" },
                cost_usd: { type: "number" },
                ms: { type: "number" },
              },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }, { session: [] }, {}],
    paths: {
      "/healthz": { get: { summary: "Liveness", responses: { 200: { description: "ok" } } } },
      "/api/images": {
        get: {
          summary: "List photos, newest first",
          parameters: ["cursor", "limit", "category", "status", "from", "to", "q"].map((name) => ({
            name,
            in: "query",
            schema: { type: name === "limit" ? "integer" : "string" },
          })),
          responses: {
            200: {
              description: "A page",
              ...json({
                type: "object",
                properties: {
                  items: { type: "array", items: image },
                  next_cursor: { type: ["string", "null"] },
                },
              }),
            },
            ...errors,
          },
        },
        post: {
          summary: "Upload photos (multipart, field `file`, repeatable)",
          requestBody: {
            content: {
              "multipart/form-data": {
                schema: {
                  type: "object",
                  properties: { file: { type: "array", items: { type: "string", format: "binary" } } },
                },
              },
            },
          },
          responses: {
            201: { description: "Something new was stored" },
            200: { description: "All were duplicates" },
            413: { description: "Too large", ...json(error) },
            415: { description: "Not a supported image", ...json(error) },
            422: { description: "Corrupt or over the pixel limit", ...json(error) },
          },
        },
      },
      "/api/images/{id}": {
        parameters: [idParam],
        get: {
          summary: "One photo",
          responses: { 200: { description: "The photo", ...json(image) }, ...errors },
        },
        patch: {
          summary: "Correct summary, category, tags or alt text (stored as human edits)",
          requestBody: json({
            type: "object",
            properties: {
              summary: { type: "string" },
              category: { type: "string" },
              tags: { type: "array", items: { type: "string" } },
              alt_text: { type: "string" },
            },
          }),
          responses: { 200: { description: "The photo", ...json(image) }, ...errors },
        },
        delete: {
          summary: "Delete a photo and its files",
          responses: { 204: { description: "Deleted" }, ...errors },
        },
      },
      "/api/images/{id}/reanalyse": {
        parameters: [idParam],
        post: {
          summary: "Queue analysis again",
          responses: { 202: { description: "Queued", ...json(image) } },
        },
      },
      "/api/images/{id}/original": {
        parameters: [idParam],
        get: {
          summary: "The original file",
          responses: { 200: { description: "Bytes" }, 304: { description: "Cached" } },
        },
      },
      "/api/images/{id}/thumbnails/{size}": {
        parameters: [
          idParam,
          { name: "size", in: "path", required: true, schema: { enum: ["small", "large"] } },
        ],
        get: { summary: "A WebP thumbnail", responses: { 200: { description: "Bytes" } } },
      },
      "/api/categories": {
        get: { summary: "Categories with counts", responses: { 200: { description: "ok" } } },
      },
      "/api/stats": {
        get: { summary: "Counts, tokens and cost", responses: { 200: { description: "ok" } } },
      },
      "/api/events": {
        get: { summary: "Server-sent events: image, deleted", responses: { 200: { description: "stream" } } },
      },
      "/api/session": {
        get: {
          summary: "Whether a password is required and given",
          responses: { 200: { description: "ok" } },
        },
        post: {
          summary: "Sign in with the password",
          responses: { 204: { description: "Signed in" }, 401: { description: "Wrong" } },
        },
        delete: { summary: "Sign out", responses: { 204: { description: "Signed out" } } },
      },
    },
  };
}
