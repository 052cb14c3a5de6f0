import type { Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAnalyser } from "../support/fake-analyser.js";
import {
  axeViolations,
  type BrowserPage,
  CHROMIUM_SKIP_REASON,
  ensureWebBuilt,
  HAS_CHROMIUM,
  openBrowserPage,
  openPage,
  type PageProblems,
  screenshot,
  serious,
  startTestServer,
  type TestServer,
} from "./browser.js";

const TRASHED = 65; // more than the Trash view's page of 60
const KEPT = 3;
const VIEW_PAGE = 60;

/** Tiny distinct JPEGs: each seed gives other bytes, so none is a duplicate. */
async function tinyJpeg(seed: number): Promise<Buffer> {
  const background = { r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 31) % 256 };
  return sharp({ create: { width: 48 + (seed % 7), height: 36 + (seed % 5), channels: 3, background } })
    .jpeg()
    .toBuffer();
}

/** Waits (a little) for the thumbnails in view; lazy ones further down never load, so never wait for them. */
async function imagesShown(page: Page): Promise<void> {
  await page.evaluate(() => {
    const inView = [...document.querySelectorAll("img")].filter(
      (img) => img.getBoundingClientRect().top < window.innerHeight,
    );
    const settle = new Promise((resolve) => setTimeout(resolve, 3000));
    return Promise.race([Promise.all(inView.map((i) => i.decode().catch(() => {}))), settle]);
  });
}

describe.skipIf(!HAS_CHROMIUM)("the Trash view in Chromium", () => {
  let server: TestServer;
  let chromium: BrowserPage;
  let page: Page;
  let problems: PageProblems;
  const ids = new Map<string, string>(); // name -> id

  const api = (pathname: string, init?: RequestInit) => fetch(`${server.url}${pathname}`, init);
  const trashed = () => page.getByRole("list", { name: "Trashed photos" }).getByRole("listitem");
  const toast = (text: string) => page.getByRole("status").filter({ hasText: text });

  beforeAll(async () => {
    await ensureWebBuilt();
    server = await startTestServer("trash", fakeAnalyser());
    const total = TRASHED + KEPT;
    for (let start = 0; start < total; start += 50) {
      const form = new FormData();
      for (let seed = start; seed < Math.min(total, start + 50); seed++) {
        const name = seed < TRASHED ? `trashed-${seed}.jpg` : `kept-${seed - TRASHED}.jpg`;
        form.append("file", new Blob([new Uint8Array(await tinyJpeg(seed))], { type: "image/jpeg" }), name);
      }
      const response = await api("/api/images", { method: "POST", body: form });
      expect(response.status).toBe(201);
      const body = (await response.json()) as { images: { id: string; original_name: string }[] };
      for (const image of body.images) ids.set(image.original_name, image.id);
    }
    // In order, so trashed-64 is the most recently trashed.
    for (let seed = 0; seed < TRASHED; seed++) {
      const response = await api(`/api/images/${ids.get(`trashed-${seed}.jpg`)}`, { method: "DELETE" });
      expect(response.status).toBe(204);
    }
    chromium = await openBrowserPage({ viewport: { width: 1280, height: 860 }, defaultTimeoutMs: 10_000 });
    ({ page, problems } = chromium);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it("is linked from the header with its count; pages on the cursor; names the whole count before emptying", async () => {
    await page.goto(server.url);
    await page.getByRole("list", { name: "Photos" }).getByRole("listitem").first().waitFor();
    const link = page.getByRole("link", { name: new RegExp(`^Trash \\(${TRASHED} photos\\)$`) });
    await link.click();
    await page.waitForURL(/\/trash$/);
    await page.getByRole("heading", { name: "Trash", level: 1 }).waitFor();
    await expect.poll(() => trashed().count()).toBe(VIEW_PAGE);
    expect(await page.getByText(`${VIEW_PAGE}+ photos`).count()).toBe(1);
    expect(await trashed().first().textContent()).toContain("trashed-64.jpg");

    // Only a page is loaded, yet the question names every photo in the trash.
    await page.getByRole("button", { name: "Empty trash" }).click();
    const confirm = page.getByRole("dialog", { name: "Empty the trash?" });
    await confirm.getByText(`All ${TRASHED} photos in the trash will be deleted for good`).waitFor();
    expect(await confirm.getByRole("button", { name: `Delete ${TRASHED} photos` }).isEnabled()).toBe(true);
    await page.keyboard.press("Escape");
    await expect.poll(() => confirm.isVisible()).toBe(false);

    // Scrolling to the end loads the rest (next_cursor), and then the count is exact.
    await expect
      .poll(
        async () => {
          await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
          return trashed().count();
        },
        { timeout: 15_000, interval: 300 },
      )
      .toBe(TRASHED);
    expect(await page.getByText(`${TRASHED} photos`, { exact: true }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Show more" }).count()).toBe(0);
    expect(await trashed().last().textContent()).toContain("trashed-0.jpg");
    expect(problems.pageErrors).toEqual([]);
  });

  it("passes axe and keeps screenshots on a desktop and a phone", async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await imagesShown(page);
    expect(serious(await axeViolations(page))).toEqual([]);
    await screenshot(page, "trash-desktop");

    const phone = await chromium.browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: "light",
      reducedMotion: "reduce",
    });
    const { page: mobile, problems: mobileProblems } = await openPage(phone);
    await mobile.goto(`${server.url}/trash`);
    await mobile.getByRole("list", { name: "Trashed photos" }).getByRole("listitem").first().waitFor();
    await imagesShown(mobile);
    expect(serious(await axeViolations(mobile))).toEqual([]);
    const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(mobile, "trash-phone");
    await mobile.emulateMedia({ colorScheme: "dark" });
    // Let the 0.01 ms colour transitions (reduced motion) finish: axe must see the dark colours.
    await mobile.evaluate(
      () =>
        new Promise((resolve) =>
          requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 50))),
        ),
    );
    expect(serious(await axeViolations(mobile))).toEqual([]);
    await screenshot(mobile, "trash-phone-dark");
    expect(mobileProblems.pageErrors).toEqual([]);
    await phone.close();
  }, 90_000);

  it("follows changes made elsewhere: a photo trashed appears first, one restored leaves", async () => {
    const kept = ids.get("kept-0.jpg");
    expect((await api(`/api/images/${kept}`, { method: "DELETE" })).status).toBe(204);
    await expect.poll(() => trashed().first().textContent(), { timeout: 10_000 }).toContain("kept-0.jpg");
    expect(await trashed().count()).toBe(TRASHED + 1);

    const first = ids.get("trashed-0.jpg");
    expect((await api(`/api/images/${first}/restore`, { method: "POST" })).status).toBe(200);
    await expect.poll(() => trashed().count(), { timeout: 10_000 }).toBe(TRASHED);
    expect(await trashed().filter({ hasText: "trashed-0.jpg" }).count()).toBe(0);
  });

  it("restores, deletes for good and empties, then says how many went", async () => {
    await page.getByRole("button", { name: "Restore trashed-64.jpg" }).click();
    await toast("Restored trashed-64.jpg to your library").waitFor();
    await expect.poll(() => trashed().count()).toBe(TRASHED - 1);
    // Focus moves on to the next photo's actions, not to the page.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.closest("li")?.textContent ?? ""))
      .toContain("trashed-63.jpg");
    const restored = (await (await api(`/api/images/${ids.get("trashed-64.jpg")}`)).json()) as {
      trashed_at: string | null;
    };
    expect(restored.trashed_at).toBeNull();

    await page.getByRole("button", { name: "Delete for good: trashed-63.jpg" }).click();
    const confirmOne = page.getByRole("dialog", { name: "Delete this photo for good?" });
    await confirmOne.getByText("“trashed-63.jpg” and its description will be removed for good").waitFor();
    await confirmOne.getByRole("button", { name: "Delete for good" }).click();
    await expect.poll(() => trashed().count()).toBe(TRASHED - 2);
    expect((await api(`/api/images/${ids.get("trashed-63.jpg")}`)).status).toBe(404);

    const left = TRASHED - 2;
    await page.getByRole("button", { name: "Empty trash" }).click();
    const confirmAll = page.getByRole("dialog", { name: "Empty the trash?" });
    await confirmAll.getByText(`All ${left} photos in the trash will be deleted for good`).waitFor();
    await confirmAll.getByRole("button", { name: `Delete ${left} photos` }).click();
    await page.getByRole("heading", { name: "The trash is empty" }).waitFor();
    expect(await page.getByText(`Deleted ${left} photos for good.`, { exact: true }).count()).toBe(1);
    await toast(`Deleted ${left} photos for good`).waitFor();
    const trash = (await (await api("/api/images?trashed=true")).json()) as { items: unknown[] };
    expect(trash.items).toEqual([]);
    await page.getByRole("link", { name: "Trash", exact: true }).waitFor();
    expect(serious(await axeViolations(page))).toEqual([]);
    await screenshot(page, "trash-empty");

    // The restored photos are in the gallery.
    await page.getByRole("link", { name: "Photos" }).click();
    const photos = page.getByRole("list", { name: "Photos" });
    await expect.poll(() => photos.getByRole("listitem").count()).toBe(KEPT - 1 + 2);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
  });

  it("sends a link to a trashed photo to the Trash with a note", async () => {
    const kept = ids.get("kept-1.jpg");
    expect((await api(`/api/images/${kept}`, { method: "DELETE" })).status).toBe(204);
    await page.goto(`${server.url}/photos/${kept}`);
    await page.waitForURL(/\/trash$/);
    await toast("kept-1.jpg is in the trash").waitFor();
    await expect.poll(() => trashed().count()).toBe(1);
    expect(await page.getByRole("dialog").count()).toBe(0);
  });
});

if (!HAS_CHROMIUM) console.warn(`[skip] Trash view e2e: ${CHROMIUM_SKIP_REASON}`);
