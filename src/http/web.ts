import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Hono } from "hono";
import { PhotocatError } from "../domain/errors.js";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Serves the built gallery: hashed assets cached for a year, everything else revalidated, and any other
 * path answered with index.html so bookmarked views (/?q=cat, /photos/<id>) open the app.
 */
export function serveWeb(app: Hono, webRoot: string): void {
  const root = path.resolve(webRoot);
  const index = path.join(root, "index.html");

  app.get("*", async (c, next) => {
    if (c.req.path.startsWith("/api/")) return next();
    if (!existsSync(index)) {
      return c.text("The web gallery is not built: run `npm run build` (npm ci does it).", 503);
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(c.req.path);
    } catch {
      throw new PhotocatError(
        "invalid_request",
        "the path has a malformed percent-escape (such as a lone %)",
      );
    }
    let file = path.join(root, path.normalize(decoded).replace(/^([/\\])+/, ""));
    if (!file.startsWith(root + path.sep) && file !== root) return c.text("not found", 404);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      if (path.extname(c.req.path)) return c.text("not found", 404);
      file = index;
    }
    const ext = path.extname(file);
    const immutable = c.req.path.startsWith("/assets/");
    return c.body(await readFile(file), 200, {
      "Content-Type": CONTENT_TYPES[ext] ?? "application/octet-stream",
      "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    });
  });
}
