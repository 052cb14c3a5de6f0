import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type SettingOverrides } from "../../src/config.js";
import { type Running, run } from "../../src/entry/runtime.js";
import { silentLogger } from "../../src/logger.js";

const PASSWORD = "correct horse battery";
const TOKEN = "token-0123456789abcdef";
const DAY = 86_400_000;

interface LogLine {
  level: number;
  msg: string;
  client?: string;
}

function capturingLogger() {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  );
  return { logger, lines };
}

const opened: Running[] = [];
async function serve(dataDir: string, settings: SettingOverrides = {}, logger = silentLogger()) {
  const config = loadConfig(
    {},
    {
      PHOTOCAT_HOST: "127.0.0.1",
      PHOTOCAT_PORT: "0",
      PHOTOCAT_PASSWORD: PASSWORD,
      PHOTOCAT_API_TOKENS: TOKEN,
      ...settings,
      PHOTOCAT_DATA_DIR: dataDir,
    },
  );
  const running = await run(config, { http: true, worker: false, logger });
  opened.push(running);
  return running.url!;
}

async function signIn(url: string, password = PASSWORD, headers: Record<string, string> = {}) {
  return fetch(`${url}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ password }),
  });
}

async function sessionCookie(url: string): Promise<string> {
  const response = await signIn(url);
  expect(response.status).toBe(204);
  return response.headers.get("set-cookie")!.split(";")[0]!;
}

const listWith = (url: string, headers: Record<string, string>) =>
  fetch(`${url}/api/images`, { headers }).then((r) => r.status);

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "photocat-authz-"));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("sessions", () => {
  it("ends a session at sign-out on every API process sharing the catalogue", async () => {
    const dir = await mkdtemp(path.join(dataDir, "two-"));
    const a = await serve(dir);
    const b = await serve(dir);
    const cookie = await sessionCookie(a);
    expect(await listWith(a, { cookie })).toBe(200);
    expect(await listWith(b, { cookie })).toBe(200);

    const out = await fetch(`${b}/api/session`, { method: "DELETE", headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/photocat_session=;.*Max-Age=0/);
    // The old cookie, replayed after sign-out, opens nothing anywhere.
    expect(await listWith(a, { cookie })).toBe(401);
    expect(await listWith(b, { cookie })).toBe(401);
    expect(await (await fetch(`${a}/api/session`, { headers: { cookie } })).json()).toEqual({
      required: true,
      authenticated: false,
      direct_upload: false,
    });
  });

  it("signs out everywhere: every browser's session ends, API tokens keep working", async () => {
    const url = await serve(await mkdtemp(path.join(dataDir, "all-")));
    const phone = await sessionCookie(url);
    const laptop = await sessionCookie(url);
    expect(phone).not.toBe(laptop);
    expect((await fetch(`${url}/api/sessions`, { method: "DELETE" })).status).toBe(401);
    expect(
      (await fetch(`${url}/api/sessions`, { method: "DELETE", headers: { cookie: laptop } })).status,
    ).toBe(204);
    expect(await listWith(url, { cookie: phone })).toBe(401);
    expect(await listWith(url, { cookie: laptop })).toBe(401);
    expect(await listWith(url, { authorization: `Bearer ${TOKEN}` })).toBe(200);
    expect(await listWith(url, { cookie: await sessionCookie(url) })).toBe(200);
  });

  it("caps a session at 30 days whatever its row says, and refuses forged and unsigned cookies", async () => {
    const dir = await mkdtemp(path.join(dataDir, "cap-"));
    const url = await serve(dir);
    const cookie = await sessionCookie(url);
    const db = new BetterSqlite3(path.join(dir, "photocat.db"));
    try {
      // A session whose row claims the year 9999, started 31 days ago: past the cap.
      db.prepare("update sessions set created_at = ?, expires_at = ?").run(
        Date.now() - 31 * DAY,
        Date.UTC(9999, 11, 31),
      );
      expect(await listWith(url, { cookie })).toBe(401);
      // Within the cap but past its own expiry.
      db.prepare("update sessions set created_at = ?, expires_at = ?").run(Date.now() - DAY, Date.now() - 1);
      expect(await listWith(url, { cookie })).toBe(401);
      db.prepare("update sessions set created_at = ?, expires_at = ?").run(
        Date.now() - DAY,
        Date.now() + DAY,
      );
      expect(await listWith(url, { cookie })).toBe(200);
    } finally {
      db.close();
    }
    const [name, value] = cookie.split("=") as [string, string];
    const [id] = decodeURIComponent(value).split(".");
    expect(await listWith(url, { cookie: `${name}=${id}` })).toBe(401);
    expect(await listWith(url, { cookie: `${name}=${id}.${"A".repeat(43)}%3D` })).toBe(401);
    // The stateless cookie of earlier versions, signed for the year 9999.
    expect(await listWith(url, { cookie: `${name}=v1.253402214400000.abc` })).toBe(401);
  });

  it("the cookie is HttpOnly, SameSite=Strict and lasts at most 30 days", async () => {
    const url = await serve(await mkdtemp(path.join(dataDir, "flags-")));
    const header = (await signIn(url)).headers.get("set-cookie")!;
    expect(header).toContain("HttpOnly");
    expect(header).toContain("SameSite=Strict");
    expect(header).toContain(`Max-Age=${30 * 86_400}`);
    expect(header).not.toContain("Secure");
  });
});

describe("throttled guessing", () => {
  it("answers 429 with Retry-After after 10 wrong passwords from a client, and logs one warning", async () => {
    const { logger, lines } = capturingLogger();
    const url = await serve(await mkdtemp(path.join(dataDir, "guess-")), {}, logger);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await signIn(url, `guess number ${i}`)).status);
    expect(statuses).toEqual(Array(10).fill(401));
    const refused = await signIn(url, "guess number 10");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(await refused.json()).toEqual({
      error: { code: "too_many_requests", message: expect.stringMatching(/try again in \d+ s/) },
    });
    // While refused, even the right password says nothing about itself.
    expect((await signIn(url)).status).toBe(429);
    expect((await signIn(url, "guess number 11")).status).toBe(429);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/too many failed sign-in attempts/);
    expect(warnings[0]!.client).toBe("127.0.0.1");
    expect(lines.filter((l) => l.msg === "sign-in failed: wrong password")).toHaveLength(10);
  });

  it("does not count right passwords and tokens", async () => {
    const url = await serve(await mkdtemp(path.join(dataDir, "right-")));
    for (let i = 0; i < 30; i++) expect((await signIn(url)).status).toBe(204);
    for (let i = 0; i < 30; i++) expect(await listWith(url, { authorization: `Bearer ${TOKEN}` })).toBe(200);
    for (let i = 0; i < 9; i++) expect((await signIn(url, "a wrong one")).status).toBe(401);
    expect((await signIn(url)).status).toBe(204);
  });

  it("allows 10 guesses a minute, however fast and concurrent they come (passwords and tokens share it)", async () => {
    const url = await serve(await mkdtemp(path.join(dataDir, "rate-")));
    const started = performance.now();
    const answers: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, worker) => {
        for (let i = 0; i < 15; i++) {
          const response =
            i % 2
              ? await signIn(url, `guess ${worker}-${i}`)
              : await fetch(`${url}/api/images`, {
                  headers: { authorization: `Bearer guess-${worker}-${i}` },
                });
          answers.push(response.status);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const evaluated = answers.filter((s) => s === 401).length;
    console.log(
      `[figure] ${answers.length} guesses in ${seconds.toFixed(2)} s (${Math.round(answers.length / seconds)}/s sent): ` +
        `${evaluated} evaluated, the rest 429; sustained limit 10/60 s = ${(10 / 60).toFixed(2)} guesses/s`,
    );
    expect(evaluated).toBe(10);
    expect(answers.filter((s) => s === 429)).toHaveLength(answers.length - 10);
  });

  it("throttles per client: X-Forwarded-For counts only from a trusted proxy", async () => {
    const untrusted = await serve(await mkdtemp(path.join(dataDir, "xff-off-")));
    for (let i = 0; i < 10; i++)
      await signIn(untrusted, "wrong password", { "x-forwarded-for": `198.51.100.${i}` });
    // Rotating a forged header does not make a new client.
    expect((await signIn(untrusted, "wrong password", { "x-forwarded-for": "198.51.100.99" })).status).toBe(
      429,
    );

    const proxied = await serve(await mkdtemp(path.join(dataDir, "xff-on-")), {
      PHOTOCAT_TRUSTED_PROXY: "127.0.0.1",
    });
    for (let i = 0; i < 11; i++)
      await signIn(proxied, "wrong password", { "x-forwarded-for": "203.0.113.7, 198.51.100.1" });
    expect((await signIn(proxied, PASSWORD, { "x-forwarded-for": "203.0.113.7, 198.51.100.1" })).status).toBe(
      429,
    );
    // Another client behind the same proxy is not locked out.
    expect((await signIn(proxied, PASSWORD, { "x-forwarded-for": "198.51.100.2" })).status).toBe(204);
  });
});

describe("trusted proxy", () => {
  const viaTls = { "x-forwarded-proto": "https" };

  it("marks the cookie Secure behind a trusted TLS proxy, and ignores X-Forwarded-Proto otherwise", async () => {
    const off = await serve(await mkdtemp(path.join(dataDir, "tls-off-")));
    expect((await signIn(off, PASSWORD, viaTls)).headers.get("set-cookie")).not.toContain("Secure");

    const on = await serve(await mkdtemp(path.join(dataDir, "tls-on-")), { PHOTOCAT_TRUSTED_PROXY: "on" });
    expect((await signIn(on, PASSWORD, viaTls)).headers.get("set-cookie")).toContain("Secure");
    expect((await signIn(on)).headers.get("set-cookie")).not.toContain("Secure");

    const listed = await serve(await mkdtemp(path.join(dataDir, "tls-list-")), {
      PHOTOCAT_TRUSTED_PROXY: "::1,127.0.0.1",
    });
    expect((await signIn(listed, PASSWORD, viaTls)).headers.get("set-cookie")).toContain("Secure");
    const other = await serve(await mkdtemp(path.join(dataDir, "tls-other-")), {
      PHOTOCAT_TRUSTED_PROXY: "10.0.0.2",
    });
    expect((await signIn(other, PASSWORD, viaTls)).headers.get("set-cookie")).not.toContain("Secure");
  });
});

describe("forged cross-site requests", () => {
  it("refuses state changes sent by another origin's page, allows its own, listed origins and scripts", async () => {
    const url = await serve(await mkdtemp(path.join(dataDir, "csrf-")), {
      PHOTOCAT_CORS_ORIGINS: "https://app.example",
    });
    const cookie = await sessionCookie(url);
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/api/images/00000000-0000-4000-8000-000000000000/reanalyse`, {
        method: "POST",
        headers: { cookie, ...headers },
      });
    const port = new URL(url).port;
    for (const origin of [
      "http://127.0.0.1:3999",
      `http://localhost:${port}`,
      `https://127.0.0.1:${port}`,
      "null",
    ]) {
      const refused = await post({ origin });
      expect(refused.status, origin).toBe(403);
      expect(await refused.json()).toEqual({
        error: { code: "forbidden", message: expect.stringContaining("not this server") },
      });
    }
    expect((await post({ "sec-fetch-site": "same-site" })).status).toBe(403);
    expect((await post({ "sec-fetch-site": "cross-site" })).status).toBe(403);
    const signOut = await fetch(`${url}/api/session`, {
      method: "DELETE",
      headers: { cookie, origin: "http://127.0.0.1:3999" },
    });
    expect(signOut.status).toBe(403);
    expect(signOut.headers.get("content-security-policy")).toContain("default-src 'self'");

    // 404: the request got through to the route (no such photo).
    expect((await post({ origin: `http://127.0.0.1:${port}` })).status).toBe(404);
    expect((await post({ "sec-fetch-site": "same-origin" })).status).toBe(404);
    expect((await post({ origin: "https://app.example" })).status).toBe(404);
    expect((await post({})).status).toBe(404);
    expect(await listWith(url, { cookie, origin: "http://127.0.0.1:3999" })).toBe(200);
  });

  it("knows its own origin behind a trusted TLS proxy", async () => {
    const trusted = await serve(await mkdtemp(path.join(dataDir, "csrf-proxy-")), {
      PHOTOCAT_TRUSTED_PROXY: "on",
    });
    const headers = {
      authorization: `Bearer ${TOKEN}`,
      origin: "https://photos.example",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "photos.example",
    };
    const through = await fetch(`${trusted}/api/sessions`, { method: "DELETE", headers });
    expect(through.status).toBe(204);
    const untrusted = await serve(await mkdtemp(path.join(dataDir, "csrf-noproxy-")));
    const refused = await fetch(`${untrusted}/api/sessions`, { method: "DELETE", headers });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.message).toContain("PHOTOCAT_TRUSTED_PROXY");
  });
});
