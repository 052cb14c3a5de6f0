import { createHmac, scryptSync, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { PhotocatError } from "../domain/errors.js";

export const SESSION_COOKIE = "photocat_session";
const SESSION_DAYS = 30;

export interface AuthSettings {
  password: string | null;
  apiTokens: string[];
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHmac("sha256", "compare").update(given).digest();
  const b = createHmac("sha256", "compare").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Password sessions and bearer tokens. Sessions are stateless signed cookies, so any number of API
 * processes accept them; the signing key comes from the password, so changing it signs everyone out.
 */
export class Auth {
  readonly required: boolean;
  readonly #key: Buffer | null;

  constructor(private readonly settings: AuthSettings) {
    this.required = Boolean(settings.password) || settings.apiTokens.length > 0;
    this.#key = settings.password ? scryptSync(settings.password, "photocat-session-v1", 32) : null;
  }

  checkPassword(password: unknown): boolean {
    return (
      typeof password === "string" && !!this.settings.password && sameSecret(password, this.settings.password)
    );
  }

  #sign(expires: number): string {
    return createHmac("sha256", this.#key!).update(`v1.${expires}`).digest("base64url");
  }

  startSession(c: Context): void {
    if (!this.#key)
      throw new PhotocatError("invalid_request", "this server has no password; use an API token");
    const expires = Date.now() + SESSION_DAYS * 86_400_000;
    setCookie(c, SESSION_COOKIE, `v1.${expires}.${this.#sign(expires)}`, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https",
      maxAge: SESSION_DAYS * 86_400,
    });
  }

  endSession(c: Context): void {
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
  }

  isAuthenticated(c: Context): boolean {
    if (!this.required) return true;
    const header = c.req.header("authorization");
    if (header?.startsWith("Bearer ")) {
      const token = header.slice("Bearer ".length).trim();
      return this.settings.apiTokens.some((t) => sameSecret(token, t));
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (!cookie || !this.#key) return false;
    const [version, expiresText, signature] = cookie.split(".");
    const expires = Number(expiresText);
    if (version !== "v1" || !Number.isFinite(expires) || expires < Date.now() || !signature) return false;
    return sameSecret(signature, this.#sign(expires));
  }

  /** Rejects unauthenticated requests to everything but the listed public paths. */
  middleware(isPublic: (path: string, method: string) => boolean): MiddlewareHandler {
    return async (c, next) => {
      if (!this.required || isPublic(c.req.path, c.req.method) || this.isAuthenticated(c)) return next();
      throw new PhotocatError("unauthorized", "sign in or send an API token (Authorization: Bearer ...)");
    };
  }
}
