import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PhotocatError } from "../../src/domain/errors.js";
import { startPhotocat } from "../../src/entry/start.js";
import type { Analyser } from "../../src/ports/analyser.js";
import { fakeAnalyser } from "../support/fake-analyser.js";
import {
  axeViolations,
  CHROMIUM_SKIP_REASON,
  ensureWebBuilt,
  HAS_CHROMIUM,
  launchChromium,
  openPage,
  type PageProblems,
  screenshot,
  serious,
} from "./browser.js";

// The gallery defects a new user met (issue 9, items 1-5), each driven in Chromium as that user would.

const REFUSAL = "the model refused to describe this photo";

/** The fake analyser behind a gate the test opens and closes, so photos stay "being described" on cue; grey fails. */
function gatedAnalyser(): { analyser: Analyser; hold(): void; release(): void } {
  const base = fakeAnalyser();
  let open = true;
  const waiting: (() => void)[] = [];
  return {
    hold: () => {
      open = false;
    },
    release: () => {
      open = true;
      for (const resume of waiting.splice(0)) resume();
    },
    analyser: {
      provider: base.provider,
      model: base.model,
      offline: true,
      async analyse(input) {
        if (!open) await new Promise<void>((resume) => waiting.push(resume));
        const analysis = await base.analyse(input);
        if (analysis.category === "other") throw new PhotocatError("analyser_failed", REFUSAL);
        return analysis;
      },
    },
  };
}

/** A photo-like JPEG of one dominant colour (distinct bytes per seed). */
async function jpeg(
  name: string,
  colour: [number, number, number],
  seed: number,
  width = 320,
  height = 240,
): Promise<{ name: string; mimeType: string; buffer: Buffer }> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const shade = 0.55 + 0.45 * Math.sin((x + seed * 37) / 60) * Math.cos((y + seed * 11) / 45);
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) pixels[i + c] = Math.min(255, colour[c]! * shade + 20);
    }
  }
  const buffer = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
  return { name, mimeType: "image/jpeg", buffer };
}

const RED: [number, number, number] = [220, 40, 30];
const GREEN: [number, number, number] = [40, 190, 60];
const BLUE: [number, number, number] = [30, 60, 220];
const GREY: [number, number, number] = [128, 128, 128];

const photoList = (page: Page) => page.getByRole("list", { name: "Photos" });
const tray = (page: Page) => page.getByRole("region", { name: "Uploads" });
const trayItem = (page: Page, name: string) => tray(page).getByRole("listitem").filter({ hasText: name });
const categoryChips = (page: Page) => page.getByRole("group", { name: "Filter by category" });

async function textOf(locator: ReturnType<Page["locator"]>): Promise<string> {
  return ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
}

async function waitForText(locator: ReturnType<Page["locator"]>, pattern: RegExp, timeout = 15_000) {
  await expect
    .poll(async () => ((await locator.textContent()) ?? "").replace(/\s+/g, " "), { timeout, interval: 100 })
    .toMatch(pattern);
}

function expectCleanPage(problems: PageProblems): void {
  expect(problems.cspViolations).toEqual([]);
  expect(problems.pageErrors).toEqual([]);
  expect(problems.alerts).toEqual([]);
}

/** The linear sRGB channels of a CSS rgb() colour. */
function linear(css: string): [number, number, number] {
  const [r = 0, g = 0, b = 0] = (css.match(/[\d.]+/g) ?? []).map(Number).map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return [r, g, b];
}

/** CIE L*a*b*, to measure how far apart two colours look (ΔE 1976). */
function lab(css: string): [number, number, number] {
  const [r, g, b] = linear(css);
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047);
  const y = f(0.2126 * r + 0.7152 * g + 0.0722 * b);
  const z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}

/** The WCAG contrast ratio of two colours. */
function contrast(a: string, b: string): number {
  const luminance = (css: string) => {
    const [r, g, bl] = linear(css);
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi = 0, lo = 0] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe.skipIf(!HAS_CHROMIUM)("gallery defects a new user met (issue 9)", () => {
  let dataDir: string;
  let server: { url: string; close(): Promise<void> };
  let chromium: { browser: Browser; close(): Promise<void> };
  let gate: ReturnType<typeof gatedAnalyser>;
  let context: BrowserContext;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    await ensureWebBuilt();
    dataDir = await mkdtemp(path.join(os.tmpdir(), "photocat-e2e-defects-"));
    gate = gatedAnalyser();
    server = await startPhotocat({ dataDir, analyser: gate.analyser });
    chromium = await launchChromium();
    context = await chromium.browser.newContext({
      viewport: { width: 1280, height: 860 },
      colorScheme: "light",
      reducedMotion: "reduce",
    });
    ({ page, problems } = await openPage(context));
  });

  afterAll(async () => {
    gate?.release();
    await chromium?.close();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("1+2: the upload panel follows each photo live to Described or failed with its reason; All counts every photo", async () => {
    await page.goto(server.url);
    await page.getByRole("heading", { name: "Your library is empty" }).waitFor();
    gate.hold();
    try {
      await page
        .getByLabel("Upload photos")
        .setInputFiles([await jpeg("tomato.jpg", RED, 1), await jpeg("concrete.jpg", GREY, 2)]);

      // Stored, not described yet: the panel says so, and All counts both although no category does yet.
      await waitForText(trayItem(page, "tomato.jpg"), /waiting to be described|Describing…/);
      await waitForText(trayItem(page, "concrete.jpg"), /waiting to be described|Describing…/);
      await tray(page).getByRole("heading", { name: "Describing: 0 of 2 photos done" }).waitFor();
      await expect
        .poll(() => textOf(categoryChips(page).getByRole("button", { name: /^All/ })), {
          timeout: 10_000,
        })
        .toBe("All 2");
      expect(await page.getByText("2 photos", { exact: true }).count()).toBe(1);
      expect(serious(await axeViolations(page, ".upload-tray"))).toEqual([]);
    } finally {
      gate.release();
    }
    await waitForText(trayItem(page, "tomato.jpg"), /jpgDescribed$/);
    await waitForText(trayItem(page, "concrete.jpg"), new RegExp(`Describing failed: ${REFUSAL}`));
    await tray(page).getByRole("heading", { name: "Uploads finished" }).waitFor();
    expect(await tray(page).getByRole("status").textContent()).toBe(
      "Uploads finished: 1 described, 1 could not be described.",
    );
    expect(await textOf(categoryChips(page).getByRole("button", { name: /^All/ }))).toBe("All 2");
    // The category counts follow too: the described photo now counts under its category.
    await expect
      .poll(() => textOf(categoryChips(page).getByRole("button", { name: /^Food/ })), { timeout: 5000 })
      .toBe("Food 1");
    await screenshot(page, "defects-upload-settled");
    expectCleanPage(problems);
  });

  it("1: without server-sent events the panel still settles, by polling", async () => {
    const offline = await chromium.browser.newContext({ viewport: { width: 1280, height: 860 } });
    await offline.route("**/api/events", (route) => route.abort());
    const { page: polled, problems: polledProblems } = await openPage(offline);
    await polled.goto(server.url);
    await photoList(polled).waitFor();
    gate.hold();
    try {
      await polled.getByLabel("Upload photos").setInputFiles([await jpeg("sea.jpg", BLUE, 3)]);
      await waitForText(trayItem(polled, "sea.jpg"), /waiting to be described|Describing…/);
    } finally {
      gate.release();
    }
    await waitForText(trayItem(polled, "sea.jpg"), /jpgDescribed$/, 20_000);
    await tray(polled).getByRole("heading", { name: "Uploads finished" }).waitFor();
    expectCleanPage(polledProblems);
    await offline.close();
  });

  it("3: a portrait photo fits whole in the detail view at 1280x860", async () => {
    await page.reload();
    await page.getByLabel("Upload photos").setInputFiles([await jpeg("tower.jpg", GREEN, 4, 600, 1200)]);
    const card = photoList(page)
      .getByRole("listitem")
      .filter({ has: page.getByRole("img", { name: "A green picture" }) });
    await card.waitFor({ timeout: 15_000 });
    await card.getByRole("button").first().click();
    const image = page.getByRole("dialog").getByRole("img", { name: "A green picture" });
    await image.evaluate((img: HTMLImageElement) => img.decode());
    const fit = await image.evaluate((img: HTMLImageElement) => {
      const box = img.getBoundingClientRect();
      const viewer = img.parentElement!.getBoundingClientRect();
      // What object-fit: contain paints inside the element's box.
      const scale = Math.min(box.width / img.naturalWidth, box.height / img.naturalHeight);
      const painted = { width: img.naturalWidth * scale, height: img.naturalHeight * scale };
      return {
        objectFit: getComputedStyle(img).objectFit,
        portrait: img.naturalHeight > img.naturalWidth,
        boxTop: box.top,
        boxBottom: box.bottom,
        viewerTop: viewer.top,
        viewerBottom: viewer.bottom,
        paintedHeight: painted.height,
        viewportHeight: window.innerHeight,
      };
    });
    expect(fit.portrait).toBe(true);
    expect(fit.objectFit).toBe("contain");
    expect(fit.boxTop).toBeGreaterThanOrEqual(fit.viewerTop - 0.5);
    expect(fit.boxBottom).toBeLessThanOrEqual(fit.viewerBottom + 0.5);
    expect(fit.viewerBottom).toBeLessThanOrEqual(fit.viewportHeight);
    // It uses the height it has: not shrunk to a stamp either.
    expect(fit.paintedHeight).toBeGreaterThan((fit.viewerBottom - fit.viewerTop) * 0.95);
    await screenshot(page, "defects-portrait-detail");
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
  });

  it("4: an open photo has its own URL: it reloads, Back closes it, Forward and links open it", async () => {
    // The newest photo (the tower, a nature photo), so that there is a next one.
    const first = photoList(page).getByRole("listitem").first();
    const dialogTitle = () =>
      page.getByRole("dialog").getByRole("heading", { level: 2 }).first().textContent();

    await first.getByRole("button").first().click();
    await page.waitForURL(/\/photos\/[0-9a-f-]{36}$/);
    const photoUrl = page.url();
    const id = new URL(photoUrl).pathname.split("/").pop()!;
    expect(await dialogTitle()).toBe("tower.jpg");

    // Reloading the photo's URL opens the same photo.
    await page.reload();
    await page.getByRole("dialog").waitFor();
    expect(await dialogTitle()).toBe("tower.jpg");
    await page.getByRole("dialog").getByRole("button", { name: "Close" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);

    // Back closes it, Forward opens it again, and focus goes back to the photo's card.
    await first.getByRole("button").first().click();
    await page.waitForURL(photoUrl);
    await page.goBack();
    await page.waitForURL((url) => url.pathname === "/");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-photo-id")))
      .toBe(id);
    await page.goForward();
    await page.getByRole("dialog").waitFor();
    expect(await dialogTitle()).toBe("tower.jpg");

    // Moving to the next photo changes the URL in place: Back still closes rather than stepping back.
    await page.keyboard.press("ArrowRight");
    await expect.poll(dialogTitle).not.toBe("tower.jpg");
    expect(page.url()).not.toBe(photoUrl);
    expect(page.url()).toMatch(/\/photos\/[0-9a-f-]{36}$/);
    await page.goBack();
    await page.waitForURL((url) => url.pathname === "/");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);

    // A shared link opens the photo in a fresh tab, even when the filters in it leave the photo out.
    const { page: shared, problems: sharedProblems } = await openPage(context);
    await shared.goto(`${server.url}/photos/${id}?category=food`);
    await shared.getByRole("dialog").waitFor();
    expect(await shared.getByRole("dialog").getByRole("heading", { level: 2 }).first().textContent()).toBe(
      "tower.jpg",
    );
    await shared.keyboard.press("Escape");
    await shared.waitForURL((url) => url.pathname === "/" && url.searchParams.get("category") === "food");
    await expect.poll(() => shared.getByRole("dialog").count()).toBe(0);

    // A link to a photo that is gone says so and lands on the gallery.
    await shared.goto(`${server.url}/photos/00000000-0000-4000-8000-000000000000`);
    await shared.getByText("That photo is not in your library", { exact: false }).waitFor();
    await shared.waitForURL((url) => url.pathname === "/");
    expectCleanPage(sharedProblems);
    await shared.close();

    // The server answers the photo's path with the gallery itself.
    const response = await fetch(`${server.url}/photos/${id}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/html/);
    expect(await response.text()).toContain('<div id="app">');
    expectCleanPage(problems);
  });

  it("5: counts use the right plural", async () => {
    await page.goto(`${server.url}/?category=food`);
    await expect.poll(() => photoList(page).getByRole("listitem").count(), { timeout: 10_000 }).toBe(1);
    await page.getByText("1 photo", { exact: true }).waitFor({ timeout: 10_000 });
    expect(await page.getByText("1 photos").count()).toBe(0);
    await page.goto(server.url);
    await expect.poll(() => photoList(page).getByRole("listitem").count(), { timeout: 10_000 }).toBe(4);
    await page.getByText("4 photos", { exact: true }).waitFor();
  });

  it("5: every category chip is on screen at 1280 px and reachable by keyboard", async () => {
    const chips = categoryChips(page).getByRole("button");
    await expect.poll(() => chips.count()).toBe(11);
    const boxes = await chips.evaluateAll((buttons) =>
      buttons.map((b) => {
        const r = b.getBoundingClientRect();
        return { name: b.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      }),
    );
    for (const box of boxes) {
      expect(box.left, box.name ?? "").toBeGreaterThanOrEqual(0);
      expect(box.right, box.name ?? "").toBeLessThanOrEqual(1280);
      expect(box.bottom, box.name ?? "").toBeLessThanOrEqual(860);
    }
    await chips.first().focus();
    for (let i = 0; i < 10; i++) await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent?.replace(/\s+/g, " "))).toBe(
      "Other 0",
    );
    await screenshot(page, "defects-chips-1280");
  });

  it("5: on a phone the chips scroll, and the keyboard brings the last one into view", async () => {
    const phone = await chromium.browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      colorScheme: "light",
      reducedMotion: "reduce",
    });
    const { page: mobile, problems: mobileProblems } = await openPage(phone);
    await mobile.goto(server.url);
    const chips = categoryChips(mobile).getByRole("button");
    await expect.poll(() => chips.count()).toBe(11);
    await chips.first().focus();
    for (let i = 0; i < 10; i++) await mobile.keyboard.press("Tab");
    const other = await mobile.evaluate(() => {
      const r = document.activeElement!.getBoundingClientRect();
      return {
        text: document.activeElement?.textContent?.replace(/\s+/g, " "),
        left: r.left,
        right: r.right,
      };
    });
    expect(other.text).toBe("Other 0");
    expect(other.left).toBeGreaterThanOrEqual(0);
    expect(other.right).toBeLessThanOrEqual(390);
    expect(await mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
    await screenshot(mobile, "defects-chips-phone");
    expectCleanPage(mobileProblems);
    await phone.close();
  });

  it("5: categories have colours far apart, with contrast, in light and dark", async () => {
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const colours = await categoryChips(page)
        .locator(".chip-dot")
        .evaluateAll((dots) =>
          dots.map((dot) => ({
            name: dot.parentElement?.textContent?.replace(/\s*\d+$/, "") ?? "",
            colour: getComputedStyle(dot).backgroundColor,
            behind: getComputedStyle(dot.parentElement!).backgroundColor,
          })),
        );
      expect(colours.map((c) => c.name)).toContain("Architecture");
      for (const { name, colour, behind } of colours) {
        expect(contrast(colour, behind), `${scheme} ${name} ${colour} on ${behind}`).toBeGreaterThanOrEqual(
          3,
        );
      }
      for (let i = 0; i < colours.length; i++) {
        for (let j = i + 1; j < colours.length; j++) {
          const [a, b] = [colours[i]!, colours[j]!];
          const distance = Math.hypot(...lab(a.colour).map((v, k) => v - lab(b.colour)[k]!));
          expect(distance, `${scheme}: ${a.name} ${a.colour} vs ${b.name} ${b.colour}`).toBeGreaterThan(30);
        }
      }
    }
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("5: statistics rows are one height, empty categories included", async () => {
    await page.goto(`${server.url}/stats`);
    const rows = page.getByRole("table").first().locator("tbody tr");
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(10);
    const heights = await rows.evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().height));
    expect(Math.max(...heights) - Math.min(...heights)).toBeLessThan(2);
    expect(serious(await axeViolations(page))).toEqual([]);
    await screenshot(page, "defects-stats");
    expectCleanPage(problems);
  });
});

if (!HAS_CHROMIUM) console.warn(`[skip] gallery defects e2e: ${CHROMIUM_SKIP_REASON}`);
