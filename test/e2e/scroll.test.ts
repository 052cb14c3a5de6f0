import type { Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAnalyser } from "../support/fake-analyser.js";
import {
  CHROMIUM_SKIP_REASON,
  ensureWebBuilt,
  HAS_CHROMIUM,
  launchChromium,
  openPage,
  startTestServer,
  type TestServer,
} from "./browser.js";

const PHOTOS = 205; // three pages of the gallery's 100

/** Tiny distinct JPEGs: each seed gives other bytes, so none is a duplicate. */
async function tinyJpeg(seed: number): Promise<Buffer> {
  const background = { r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 31) % 256 };
  return sharp({ create: { width: 24 + (seed % 7), height: 18 + (seed % 5), channels: 3, background } })
    .jpeg()
    .toBuffer();
}

async function renderedCards(page: Page): Promise<{ count: number; last: number; setSize: number }> {
  return page.getByRole("list", { name: "Photos" }).evaluate((list) => {
    const items = [...list.querySelectorAll(":scope > li")];
    const last = items.at(-1);
    return {
      count: items.length,
      last: Number(last?.getAttribute("aria-posinset") ?? 0),
      setSize: Number(last?.getAttribute("aria-setsize") ?? 0),
    };
  });
}

describe.skipIf(!HAS_CHROMIUM)("gallery with many photos", () => {
  let server: TestServer;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    await ensureWebBuilt();
    server = await startTestServer("scroll", fakeAnalyser());
    for (let start = 0; start < PHOTOS; start += 50) {
      const form = new FormData();
      for (let seed = start; seed < Math.min(PHOTOS, start + 50); seed++) {
        form.append(
          "file",
          new Blob([new Uint8Array(await tinyJpeg(seed))], { type: "image/jpeg" }),
          `tiny-${seed}.jpg`,
        );
      }
      const response = await fetch(`${server.url}/api/images`, { method: "POST", body: form });
      expect(response.status).toBe(201);
    }
    chromium = await launchChromium();
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it("renders only the rows near the viewport and pages in the rest on the cursor while scrolling", async () => {
    const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await openPage(context);
    await page.goto(server.url);
    await page.getByRole("list", { name: "Photos" }).getByRole("listitem").first().waitFor();

    const first = await renderedCards(page);
    expect(first.count).toBeLessThan(80);
    expect(first.setSize).toBe(-1); // more pages to come

    // Scroll to the end until the last page has arrived.
    await expect
      .poll(
        async () => {
          await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
          return (await renderedCards(page)).last;
        },
        { timeout: 20_000, interval: 300 },
      )
      .toBe(PHOTOS);
    const end = await renderedCards(page);
    expect(end.setSize).toBe(PHOTOS);
    expect(end.count).toBeLessThan(80);
    expect(problems.pageErrors).toEqual([]);
    await context.close();
  });
});

if (!HAS_CHROMIUM) console.warn(`[skip] gallery scrolling e2e: ${CHROMIUM_SKIP_REASON}`);
