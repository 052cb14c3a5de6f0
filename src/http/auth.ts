import { createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { PhotocatError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { Catalog } from "../ports/catalog.js";
import { requestOrigin } from "./proxy.js";

export const SESSION_COOKIE = "photocat_session";
/** The longest a session lives, whatever a stored row says. */
export const SESSION_MAX_MS = 30 * 86_400_000;
/** Wrong passwords or tokens allowed per client address in a window, then 429 until it ends. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_SECONDS = 60;

export type SessionStore = Pick<
  Catalog,
  "createSession" | "findSession" | "revokeSession" | "revokeAllSessions"
>;

export interface AuthSettings {
  password: string | null;
  apiTokens: string[];
  trustedProxy: boolean | readonly string[];
  sessions: SessionStore;
  logger: Logger;
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHmac("sha256", "compare").update(given).digest();
  const b = createHmac("sha256", "compare").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Only the hash of a session id is stored: a copy of the database holds no usable session. */
const hashId = (id: string) => createHash("sha256").update(id).digest("hex");

/**
 * Password sessions and bearer tokens. A session is a random id in a cookie signed with a key derived from
 * the password (changing it signs everyone out) and a row in the catalogue, so signing out holds on every API
 * process. Failed passwords and tokens are throttled per client address.
 */
export class Auth {
  readonly required: boolean;
  readonly #settings: AuthSettings;
  /** The cookie-signing key, derived from the password. */
  readonly #key: string | null;
  readonly #failures = new RateLimiterMemory({ points: MAX_FAILURES, duration: FAILURE_WINDOW_SECONDS });

  constructor(settings: AuthSettings) {
    this.#settings = settings;
    this.required = Boolean(settings.password) || settings.apiTokens.length > 0;
    this.#key = settings.password
      ? scryptSync(settings.password, "photocat-session-v2", 32).toString("base64url")
      : null;
  }

  /** POST /api/session: checks the password and starts a session (a cookie), or throws 401/429. */
  async signIn(c: Context, password: unknown): Promise<void> {
    if (!this.#key || !this.#settings.password)
      throw new PhotocatError("invalid_request", "this server has no password; use an API token");
    const right = typeof password === "string" && sameSecret(password, this.#settings.password);
    if (!(await this.#throttled(c, right, "password")))
      throw new PhotocatError("unauthorized", "wrong password");
    const id = randomBytes(32).toString("base64url");
    const now = Date.now();
    await this.#settings.sessions.createSession(
      { idHash: hashId(id), createdAt: now, expiresAt: now + SESSION_MAX_MS },
      now,
    );
    await setSignedCookie(c, SESSION_COOKIE, id, this.#key, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: requestOrigin(c, this.#settings.trustedProxy).protocol === "https",
      maxAge: SESSION_MAX_MS / 1000,
    });
  }

  /** DELETE /api/session: ends this browser's session on every process and clears its cookie. */
  async signOut(c: Context): Promise<void> {
    const id = await this.#sessionId(c);
    if (id) await this.#settings.sessions.revokeSession(hashId(id), Date.now());
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
  }

  /** DELETE /api/sessions: ends every session (all browsers); API tokens are not affected. */
  async signOutEverywhere(c: Context): Promise<void> {
    const revoked = await this.#settings.sessions.revokeAllSessions(Date.now());
    this.#settings.logger.info({ revoked }, "signed out everywhere");
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
  }

  /** GET /api/session. */
  async status(c: Context): Promise<{ required: boolean; authenticated: boolean }> {
    return { required: this.required, authenticated: await this.isAuthenticated(c) };
  }

  async isAuthenticated(c: Context): Promise<boolean> {
    if (!this.required) return true;
    const header = c.req.header("authorization");
    if (header?.startsWith("Bearer ")) {
      const token = header.slice("Bearer ".length).trim();
      return this.#throttled(
        c,
        this.#settings.apiTokens.some((t) => sameSecret(token, t)),
        "token",
      );
    }
    const id = await this.#sessionId(c);
    if (!id) return false;
    const session = await this.#settings.sessions.findSession(hashId(id));
    if (!session || session.revokedAt !== null) return false;
    // However far ahead a row says it lasts, no session outlives the cap.
    return Date.now() < Math.min(session.expiresAt, session.createdAt + SESSION_MAX_MS);
  }

  /** Rejects unauthenticated requests to everything but the listed public paths. */
  middleware(isPublic: (path: string, method: string) => boolean): MiddlewareHandler {
    return async (c, next) => {
      if (!this.required || isPublic(c.req.path, c.req.method) || (await this.isAuthenticated(c)))
        return next();
      throw new PhotocatError("unauthorized", "sign in or send an API token (Authorization: Bearer ...)");
    };
  }

  async #sessionId(c: Context): Promise<string | null> {
    if (!this.#key) return null;
    return (await getSignedCookie(c, this.#key, SESSION_COOKIE)) || null;
  }

  /**
   * Lets a checked password or token count only while its client is under the limit of failures: a wrong one
   * is counted (atomically, so concurrent guesses cannot slip past), and over the limit every answer, right
   * or wrong, is 429 with Retry-After, so no guess beyond the limit learns anything. Right ones never count.
   */
  async #throttled(c: Context, right: boolean, what: "password" | "token"): Promise<boolean> {
    const client = requestOrigin(c, this.#settings.trustedProxy).client;
    const logger = this.#settings.logger;
    let record: RateLimiterRes | null;
    try {
      record = right ? await this.#failures.get(client) : await this.#failures.consume(client);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      record = refusal;
      // One warning per burst: the first refusal.
      if (refusal.consumedPoints === MAX_FAILURES + 1) {
        logger.warn(
          { client, failures: MAX_FAILURES, retryAfterSeconds: Math.ceil(refusal.msBeforeNext / 1000) },
          "too many failed sign-in attempts: refusing this client's passwords and tokens for a while",
        );
      }
    }
    if (record && record.consumedPoints > (right ? MAX_FAILURES - 1 : MAX_FAILURES)) {
      const seconds = Math.max(1, Math.ceil(record.msBeforeNext / 1000));
      c.header("Retry-After", String(seconds));
      throw new PhotocatError(
        "too_many_requests",
        `too many failed sign-in attempts from your address; try again in ${seconds} s`,
      );
    }
    if (!right) logger.info({ client, failures: record?.consumedPoints }, `sign-in failed: wrong ${what}`);
    return right;
  }
}
