import type { MiddlewareHandler } from "hono";
import { PhotocatError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { requestOrigin } from "./proxy.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface CsrfSettings {
  /** PHOTOCAT_CORS_ORIGINS: other origins whose pages may call the API. */
  corsOrigins: readonly string[];
  trustedProxy: boolean | readonly string[];
  logger: Logger;
}

/**
 * Refuses state-changing requests sent by another site's page, including one on another port of the same
 * host: SameSite cookies do not stop those, since "same site" ignores the port. Browsers say who sent a
 * request in Origin (or, failing that, Sec-Fetch-Site); requests with neither come from outside a browser
 * (curl, scripts with a token) and carry no ambient credentials to abuse, so they pass.
 *
 * hono/csrf does not fit: it checks form and text content types only, refuses header-less form posts from
 * scripts (curl -F), and answers in plain text.
 */
export function csrfProtection(settings: CsrfSettings): MiddlewareHandler {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const origin = c.req.header("origin");
    const fetchSite = c.req.header("sec-fetch-site");
    if (origin === undefined && fetchSite === undefined) return next();
    const own = requestOrigin(c, settings.trustedProxy).origin;
    const refuse = (error: PhotocatError) => {
      settings.logger.warn(
        {
          method: c.req.method,
          path: c.req.path,
          origin,
          fetchSite,
          withCookie: c.req.header("cookie") !== undefined,
        },
        "refused a request sent by another site's page",
      );
      return error;
    };
    if (origin !== undefined) {
      if (origin === own || settings.corsOrigins.includes(origin)) return next();
      throw refuse(
        new PhotocatError(
          "forbidden",
          `refused a ${c.req.method} sent by a page of ${origin}, which is not this server (${own}); ` +
            "allow other origins with PHOTOCAT_CORS_ORIGINS, and behind a TLS proxy set PHOTOCAT_TRUSTED_PROXY",
        ),
      );
    }
    if (fetchSite === "same-origin" || fetchSite === "none") return next();
    throw refuse(
      new PhotocatError(
        "forbidden",
        `refused a ${c.req.method} sent by another site's page (Sec-Fetch-Site: ${fetchSite})`,
      ),
    );
  };
}
