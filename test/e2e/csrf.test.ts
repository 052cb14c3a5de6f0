import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageJson } from "../../src/api/present.js";
import { loadConfig } from "../../src/config.js";
import { run } from "../../src/entry/runtime.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";
import { CHROMIUM_SKIP_REASON, ensureWebBuilt, HAS_CHROMIUM, launchChromium, openPage } from "./browser.js";

const PASSWORD = "correct horse battery staple";
const TOKEN = "csrf-test-token-0123456789";

/** The attacker's page: every way a page of another origin can make a browser send a state change. */
function attackerPage(app: string, photoId: string): string {
  const reanalyse = `${app}/api/images/${photoId}/reanalyse`;
  return `<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="text" method="POST" enctype="text/plain" action="${reanalyse}" target="sink">
  <input name='{"x":"' value='"}'>
</form>
<form id="urlencoded" method="POST" action="${app}/api/session" target="sink">
  <input name="password" value="guess">
</form>
<script>
window.attack = (async () => {
  const outcomes = {};
  const attempt = async (name, url, init) => {
    try {
      const response = await fetch(url, { credentials: "include", ...init });
      outcomes[name] = response.type === "opaque" ? "sent" : response.status;
    } catch (error) {
      outcomes[name] = "blocked by the browser";
    }
  };
  const photo = await (await fetch("/photo.jpg")).blob();
  const form = new FormData();
  form.append("file", photo, "planted.jpg");
  await attempt("reanalyse", "${reanalyse}", { method: "POST", mode: "no-cors" });
  await attempt("upload", "${app}/api/images", { method: "POST", mode: "no-cors", body: form });
  await attempt("json-as-text", "${app}/api/images/${photoId}", {
    method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: '{"summary":"pwned"}',
  });
  await attempt("delete", "${app}/api/images/${photoId}", { method: "DELETE" });
  await attempt("sign-out-everywhere", "${app}/api/sessions", { method: "DELETE" });
  document.getElementById("text").submit();
  await new Promise((r) => setTimeout(r, 300));
  document.getElementById("urlencoded").submit();
  await new Promise((r) => setTimeout(r, 300));
  return outcomes;
})();
</script></body></html>`;
}

async function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

describe.skipIf(!HAS_CHROMIUM)("forged requests from a page on another port of the same host", () => {
  let dataDir: string;
  let app: { url: string; close(): Promise<void> };
  const refusals: { path: string; withCookie: boolean }[] = [];
  const logger = pino(
    { level: "warn" },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as { msg: string; path: string; withCookie: boolean };
        if (entry.msg.startsWith("refused a request")) refusals.push(entry);
      },
    },
  );
  let attacker: Server;
  let attackerUrl: string;
  let chromium: { browser: Browser; close(): Promise<void> };
  const analyser = fakeAnalyser();
  let photoId: string;
  const api = (route: string, init: RequestInit = {}) =>
    fetch(`${app.url}${route}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...init.headers } });

  beforeAll(async () => {
    await ensureWebBuilt();
    dataDir = await mkdtemp(path.join(os.tmpdir(), "photocat-e2e-csrf-"));
    const config = loadConfig(
      {},
      {
        PHOTOCAT_HOST: "127.0.0.1",
        PHOTOCAT_PORT: "0",
        PHOTOCAT_DATA_DIR: dataDir,
        PHOTOCAT_PASSWORD: PASSWORD,
        PHOTOCAT_API_TOKENS: TOKEN,
      },
    );
    const running = await run(config, { http: true, worker: true, analyser, logger, pollMs: 100 });
    app = { url: running.url!, close: () => running.close() };
    // A script with a token and no browser headers may still change things.
    const form = new FormData();
    form.append(
      "file",
      new Blob([new Uint8Array(await solidImage({ r: 200, g: 30, b: 30 }, 1))]),
      "mine.jpg",
    );
    const uploaded = (await (await api("/api/images", { method: "POST", body: form })).json()) as {
      images: ImageJson[];
    };
    photoId = uploaded.images[0]!.id;
    for (let tries = 0; ; tries++) {
      const { status } = (await (await api(`/api/images/${photoId}`)).json()) as ImageJson;
      if (status === "done") break;
      if (tries > 200) throw new Error(`the photo stayed ${status}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const planted = await solidImage({ r: 30, g: 200, b: 30 }, 2);
    attacker = createServer((request, response) => {
      if (request.url === "/photo.jpg") {
        response.writeHead(200, { "content-type": "image/jpeg" }).end(planted);
        return;
      }
      response.writeHead(200, { "content-type": "text/html" }).end(attackerPage(app.url, photoId));
    });
    // The port of the report when free; any other port of 127.0.0.1 is the same attack.
    const port = await listen(attacker, 3999).catch(() => listen(attacker, 0));
    attackerUrl = `http://127.0.0.1:${port}`;
    chromium = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await new Promise((r) => (attacker ? attacker.close(r) : r(null)));
    await app?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("refuses every state change the other page sends with the victim's cookie; the gallery still works", async () => {
    const context = await chromium.browser.newContext();
    const { page: gallery, problems } = await openPage(context);
    await gallery.goto(app.url);
    await gallery.getByLabel("Password").fill(PASSWORD);
    await gallery.getByRole("button", { name: "Sign in" }).click();
    await gallery.getByRole("list", { name: "Photos" }).getByRole("listitem").first().waitFor();

    // What reached Photocat from the attacker's page, as the network saw it.
    const reached: { method: string; url: string; status: number }[] = [];
    const evil = await context.newPage();
    evil.on("response", (response) => {
      if (!response.url().startsWith(app.url)) return;
      reached.push({
        method: response.request().method(),
        url: response.url().slice(app.url.length),
        status: response.status(),
      });
    });
    await evil.goto(attackerUrl);
    const outcomes = await evil.evaluate(() => (window as unknown as { attack: Promise<unknown> }).attack);
    await expect.poll(() => reached.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(5);

    // The browser did send the victim's cookie (same site: SameSite=Strict does not stop it)...
    expect(refusals).toHaveLength(5);
    expect(refusals.every((r) => r.withCookie)).toBe(true);
    // ...and every state change was refused. (Cross-origin DELETEs do not even pass the CORS preflight.)
    const changes = reached.filter((r) => r.method !== "OPTIONS");
    expect(changes.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
      [
        `POST /api/images/${photoId}/reanalyse`,
        `POST /api/images/${photoId}/reanalyse`,
        "POST /api/images",
        `POST /api/images/${photoId}`,
        "POST /api/session",
      ].sort(),
    );
    expect(changes.map((r) => r.status)).toEqual(changes.map(() => 403));
    expect(outcomes).toMatchObject({
      delete: "blocked by the browser",
      "sign-out-everywhere": "blocked by the browser",
    });

    // Nothing happened: one photo, analysed once, still described.
    const list = (await (await api("/api/images")).json()) as { items: ImageJson[] };
    expect(list.items.map((i) => i.id)).toEqual([photoId]);
    await new Promise((r) => setTimeout(r, 500));
    expect(analyser.calls).toHaveLength(1);
    expect(((await (await api(`/api/images/${photoId}`)).json()) as ImageJson).status).toBe("done");

    // The gallery's own requests still pass: re-describe, then sign out.
    await gallery.reload();
    const status = await gallery.evaluate(
      async (id) => (await fetch(`/api/images/${id}/reanalyse`, { method: "POST" })).status,
      photoId,
    );
    expect(status).toBe(202);
    await expect.poll(() => analyser.calls.length, { timeout: 10_000 }).toBe(2);
    await gallery.getByRole("button", { name: "Sign out" }).click();
    await gallery.getByRole("heading", { name: "Sign in to Photocat" }).waitFor();
    expect(problems.pageErrors).toEqual([]);
    await context.close();
  }, 60_000);
});

if (!HAS_CHROMIUM) console.warn(`[skip] CSRF e2e: ${CHROMIUM_SKIP_REASON}`);
