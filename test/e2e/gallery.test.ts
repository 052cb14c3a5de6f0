import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Analyser } from "../../src/ports/analyser.js";
import { fakeAnalyser } from "../support/fake-analyser.js";
import { HAS_TESTDATA, TESTDATA_SKIP_REASON, testdataPath } from "../support/testdata.js";
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

const HOSTILE = "<img src=x onerror=alert(1)>";

/** The fake analyser, except that grey pictures get a summary a hostile model might write. */
function analyserWithHostileGrey(): Analyser {
  const base = fakeAnalyser();
  return {
    provider: base.provider,
    model: base.model,
    offline: true,
    async analyse(input) {
      const analysis = await base.analyse(input);
      if (analysis.category !== "other") return analysis;
      return { ...analysis, summary: HOSTILE, altText: "A grey square" };
    },
  };
}

interface Fixture {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** A small photo-like picture: a soft gradient of one dominant colour, unique per seed. */
async function gradientJpeg(name: string, colour: [number, number, number], seed: number): Promise<Fixture> {
  const width = 320;
  const height = 240;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const shade = 0.55 + 0.45 * Math.sin((x + seed * 37) / 60) * Math.cos((y + seed * 11) / 45);
      const i = (y * width + x) * 3;
      pixels[i] = Math.min(255, colour[0] * shade + 20);
      pixels[i + 1] = Math.min(255, colour[1] * shade + 20);
      pixels[i + 2] = Math.min(255, colour[2] * shade + 20);
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

async function photoItems(page: Page) {
  return page.getByRole("list", { name: "Photos" }).getByRole("listitem");
}

async function waitForDescribed(page: Page, count: number): Promise<void> {
  await expect
    .poll(async () => (await photoItems(page)).count(), { timeout: 20_000, interval: 200 })
    .toBe(count);
  const describing = page.getByRole("list", { name: "Photos" }).getByText("Describing…", { exact: true });
  await expect.poll(() => describing.count(), { timeout: 20_000, interval: 200 }).toBe(0);
}

function expectCleanPage(problems: PageProblems): void {
  expect(problems.cspViolations).toEqual([]);
  expect(problems.pageErrors).toEqual([]);
  expect(problems.alerts).toEqual([]);
}

describe.skipIf(!HAS_CHROMIUM)("web gallery in Chromium", () => {
  let server: TestServer;
  let chromium: BrowserPage;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    await ensureWebBuilt();
    server = await startTestServer("gallery", analyserWithHostileGrey());
    chromium = await openBrowserPage({ viewport: { width: 1280, height: 860 }, defaultTimeoutMs: 10_000 });
    ({ page, problems } = chromium);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it("shows an empty library with an accessible upload control", async () => {
    await page.goto(server.url);
    await page.getByRole("heading", { name: "Your library is empty" }).waitFor();
    expect(await page.getByLabel("Upload photos").getAttribute("type")).toBe("file");
    expect(await page.getByRole("searchbox", { name: "Search photos" }).count()).toBe(1);
    expectCleanPage(problems);
  });

  it("uploads photos with per-file progress; cards describe themselves; duplicates and bad files get reasons", async () => {
    const files = [
      await gradientJpeg("tomato.jpg", RED, 1),
      await gradientJpeg("forest.jpg", GREEN, 2),
      await gradientJpeg("meadow.jpg", GREEN, 3),
      await gradientJpeg("ocean.jpg", BLUE, 4),
      await gradientJpeg("concrete.jpg", GREY, 5),
    ];
    await page.getByLabel("Upload photos").setInputFiles(files);
    const tray = page.getByRole("region", { name: /Upload/ });
    await tray.waitFor();
    expect(await tray.getByRole("listitem").count()).toBe(5);
    await waitForDescribed(page, 5);
    await page.getByRole("heading", { name: "Uploads finished" }).waitFor();

    // Newest first; each image's alt is its alt text; each card shows summary and category.
    const items = await photoItems(page);
    const alts = await items.getByRole("img").evaluateAll((imgs) => imgs.map((i) => i.getAttribute("alt")));
    expect(alts.sort()).toEqual(
      ["A blue picture", "A green picture", "A green picture", "A grey square", "A red picture"].sort(),
    );
    const forest = items.filter({ has: page.getByRole("img", { name: "A red picture" }) });
    expect(await forest.textContent()).toContain("A mostly red picture.");
    expect(await forest.textContent()).toContain("Food");

    // The same photo again, and a file that is no image: both reported with their reason.
    await page
      .getByLabel("Upload photos")
      .setInputFiles([
        files[0]!,
        { name: "notes.jpg", mimeType: "image/jpeg", buffer: Buffer.from("this is not a photo at all") },
      ]);
    await tray.getByText("Already in your library", { exact: true }).waitFor();
    const rejected = tray.getByRole("listitem").filter({ hasText: "notes.jpg" });
    await expect
      .poll(async () => (await rejected.textContent()) ?? "", { timeout: 10_000 })
      .not.toMatch(/Uploading|Waiting/);
    expect((await rejected.textContent())?.length).toBeGreaterThan("notes.jpg".length + 5);
    expect(await (await photoItems(page)).count()).toBe(5);
    expectCleanPage(problems);
  });

  it("accepts photos dropped anywhere on the page", async () => {
    const dropped = await gradientJpeg("dropped-sea.jpg", BLUE, 9);
    await page.evaluate(
      ({ name, base64 }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
        const target = document.querySelector("main") ?? document.body;
        target.dispatchEvent(new DragEvent("dragenter", { bubbles: true, dataTransfer: transfer }));
        target.dispatchEvent(
          new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: transfer }),
        );
        target.dispatchEvent(
          new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: transfer }),
        );
      },
      { name: dropped.name, base64: dropped.buffer.toString("base64") },
    );
    await waitForDescribed(page, 6);
    expect(
      await page
        .getByRole("region", { name: /Upload/ })
        .getByText("dropped-sea.jpg")
        .count(),
    ).toBe(1);
  });

  it("shows model text as text, never as HTML", async () => {
    const grey = (await photoItems(page)).filter({ has: page.getByRole("img", { name: "A grey square" }) });
    expect(await grey.textContent()).toContain(HOSTILE);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expectCleanPage(problems);
  });

  it("searches (debounced) with the search in the URL, and filters by category chips with counts", async () => {
    const search = page.getByRole("searchbox", { name: "Search photos" });
    await search.fill("green");
    await page.waitForURL(/[?&]q=green/);
    await expect.poll(async () => (await photoItems(page)).count(), { timeout: 10_000 }).toBe(2);
    await page.getByRole("heading", { name: /Results for/ }).waitFor();

    await search.fill("");
    await page.waitForURL((url) => !url.searchParams.has("q"));
    await expect.poll(async () => (await photoItems(page)).count(), { timeout: 10_000 }).toBe(6);

    const categories = page.getByRole("group", { name: "Filter by category" });
    const nature = categories.getByRole("button", { name: /^Nature\s*2$/ });
    await nature.click();
    await page.waitForURL(/[?&]category=nature/);
    expect(await nature.getAttribute("aria-pressed")).toBe("true");
    await expect.poll(async () => (await photoItems(page)).count(), { timeout: 10_000 }).toBe(2);
    const chips = await (await photoItems(page)).getByText("Nature").count();
    expect(chips).toBe(2);

    // The URL alone restores the view (a bookmark).
    await page.goto(`${server.url}/?category=vehicles`);
    await expect.poll(async () => (await photoItems(page)).count(), { timeout: 10_000 }).toBe(2);
    expect(await categories.getByRole("button", { name: /^Vehicles/ }).getAttribute("aria-pressed")).toBe(
      "true",
    );
    await page.goto(server.url);
    await waitForDescribed(page, 6);
  });

  it("passes an axe-core scan of the gallery and keeps screenshots", async () => {
    const violations = serious(await axeViolations(page));
    expect(violations).toEqual([]);
    await screenshot(page, "gallery-light");
    expectCleanPage(problems);
  });

  it("opens a detail dialog with every field; arrows move between photos; Esc closes and focus returns", async () => {
    const first = (await photoItems(page)).first().getByRole("button").first();
    const firstName = await first.getByRole("img").getAttribute("alt");
    await first.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const title = await dialog.getByRole("heading", { level: 2 }).first().textContent();
    expect(title).toBeTruthy();
    for (const label of ["Tags", "Alt text", "Added", "Provider", "Model", "Cost", "Tokens"]) {
      expect(await dialog.getByText(label, { exact: true }).count(), label).toBeGreaterThan(0);
    }
    expect(await dialog.getByText("fake-1").count()).toBe(1);
    expect(await dialog.getByRole("button", { name: "Read aloud" }).count()).toBe(1);
    expect(await dialog.getByRole("link", { name: "Download original" }).getAttribute("href")).toMatch(
      /\/original$/,
    );

    await page.keyboard.press("ArrowRight");
    await expect.poll(() => dialog.getByRole("heading", { level: 2 }).first().textContent()).not.toBe(title);
    await page.keyboard.press("ArrowLeft");
    await expect.poll(() => dialog.getByRole("heading", { level: 2 }).first().textContent()).toBe(title);

    const scan = serious(await axeViolations(page, ".photo-dialog"));
    expect(scan).toEqual([]);
    await dialog.getByRole("img").evaluate((img: HTMLImageElement) => img.decode().catch(() => {}));
    await screenshot(page, "detail-light");

    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.count()).toBe(0);
    const focusedAlt = await page.evaluate(() => document.activeElement?.querySelector("img")?.alt ?? null);
    expect(focusedAlt).toBe(firstName);
    expectCleanPage(problems);
  });

  it("edits summary, category and tags in place; the edit survives a reload", async () => {
    const card = (await photoItems(page)).filter({ has: page.getByRole("img", { name: "A red picture" }) });
    await card.getByRole("button").first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Edit" }).click();
    await dialog.getByLabel("Summary").fill("Ripe tomatoes on a market stall.");
    await dialog.getByLabel("Tags").fill("tomato, market");
    await dialog.getByLabel("Category").selectOption("food");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await dialog.getByText("Ripe tomatoes on a market stall.").waitFor();
    await expect.poll(() => dialog.getByText("Edited").count()).toBe(1);

    // A person's hostile text is text too.
    await dialog.getByRole("button", { name: "Edit" }).click();
    await dialog.getByLabel("Alt text").fill(HOSTILE);
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await dialog.getByText(HOSTILE).waitFor();
    await page.keyboard.press("Escape");
    // Closed first: a reload while the URL still names the photo opens its dialog again.
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    await page.waitForURL((url) => !url.pathname.startsWith("/photos/"));

    await page.reload();
    await waitForDescribed(page, 6);
    const edited = (await photoItems(page)).filter({ hasText: "Ripe tomatoes on a market stall." });
    await expect.poll(() => edited.count()).toBe(1);
    await edited.getByRole("button").first().click();
    // The dialog loads the photo after it opens: wait for what it shows, not a count at once.
    const reopened = page.getByRole("dialog");
    await expect.poll(() => reopened.getByText("Ripe tomatoes on a market stall.").count()).toBe(1);
    await expect
      .poll(() => reopened.getByRole("list", { name: "Tags" }).getByRole("listitem").allTextContents())
      .toEqual(["tomato", "market"]);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await page.keyboard.press("Escape");
    expectCleanPage(problems);
  });

  it("re-analyses a photo and fills it in again by itself", async () => {
    const card = (await photoItems(page)).filter({ has: page.getByRole("img", { name: "A blue picture" }) });
    await card.first().getByRole("button").first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Re-analyse" }).click();
    await expect
      .poll(async () => dialog.getByRole("button", { name: "Re-analyse" }).isEnabled(), { timeout: 15_000 })
      .toBe(true);
    expect(await dialog.getByText("A mostly blue picture.").count()).toBe(1);
    await page.keyboard.press("Escape");
  });

  /** Opens the first card showing `alt`, moves it to the trash through the confirmation; returns its name. */
  async function trashFromDialog(alt: string): Promise<string> {
    const card = (await photoItems(page)).filter({ has: page.getByRole("img", { name: alt }) });
    await card.first().getByRole("button").first().click();
    const dialog = page.getByRole("dialog", { name: /\.jpg$/ });
    const name = (await dialog.getByRole("heading", { level: 2 }).first().textContent()) ?? "";
    await dialog.getByRole("button", { name: "Move to trash" }).click();
    await page
      .getByRole("dialog", { name: "Move this photo to the trash?" })
      .getByRole("button", { name: "Move to trash" })
      .click();
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    return name;
  }

  const toast = (text: string) => page.getByRole("status").filter({ hasText: text });

  it("moves a photo to the trash after confirmation; Undo (or Ctrl+Z) brings it back", async () => {
    page.setDefaultTimeout(10_000);
    const greens = page.getByRole("list", { name: "Photos" }).getByRole("img", { name: "A green picture" });
    const card = (await photoItems(page)).filter({ has: page.getByRole("img", { name: "A green picture" }) });
    await card.first().getByRole("button").first().click();
    const dialog = page.getByRole("dialog", { name: /\.jpg$/ });
    const name = (await dialog.getByRole("heading", { level: 2 }).first().textContent()) ?? "";
    await dialog.getByRole("button", { name: "Move to trash" }).click();
    const confirm = page.getByRole("dialog", { name: "Move this photo to the trash?" });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain("restore it from the Trash");
    // Cancel is the safe default.
    await page.keyboard.press("Escape");
    await expect.poll(() => confirm.isVisible()).toBe(false);
    expect(await dialog.isVisible()).toBe(true);
    await dialog.getByRole("button", { name: "Move to trash" }).click();
    await confirm.getByRole("button", { name: "Move to trash" }).click();
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    await expect.poll(async () => (await photoItems(page)).count()).toBe(5);
    await toast(`Moved ${name} to the trash.`).waitFor();
    await page.getByRole("link", { name: /^Trash \(1 photo\)$/ }).waitFor();

    await page.getByRole("button", { name: "Undo" }).click();
    await expect.poll(async () => (await photoItems(page)).count()).toBe(6);
    await toast(`Restored ${name}`).waitFor();
    expect(await greens.count()).toBe(2);
    // Focus lands on the photo that came back, not on the page.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.querySelector("img")?.alt ?? null))
      .toBe("A green picture");
    await page.getByRole("link", { name: "Trash", exact: true }).waitFor();

    // The same by keyboard alone: Enter opens the focused card, Cancel has focus in the confirmation.
    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Move to trash" }).focus();
    await page.keyboard.press("Enter");
    await confirm.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await expect.poll(async () => (await photoItems(page)).count()).toBe(5);
    expect(await page.getByRole("button", { name: "Undo" }).getAttribute("aria-keyshortcuts")).toContain(
      "Control+Z",
    );
    await page.keyboard.press("Control+z");
    await expect.poll(async () => (await photoItems(page)).count()).toBe(6);
    await page.reload();
    await waitForDescribed(page, 6);
    expect(await greens.count()).toBe(2);
    expectCleanPage(problems);
  });

  it("opens the Trash from the header; restores a photo into the gallery and deletes one for good", async () => {
    const green = await trashFromDialog("A green picture");
    const grey = await trashFromDialog("A grey square");
    await expect.poll(async () => (await photoItems(page)).count()).toBe(4);
    await page.getByRole("link", { name: /^Trash \(2 photos\)$/ }).click();
    await page.waitForURL(/\/trash$/);
    await page.getByRole("heading", { name: "Trash", level: 1 }).waitFor();
    const trashed = page.getByRole("list", { name: "Trashed photos" }).getByRole("listitem");
    await expect.poll(() => trashed.count()).toBe(2);
    // Most recently trashed first, each with its name and when it was trashed.
    expect(await trashed.first().textContent()).toContain(grey);
    expect(await trashed.nth(1).textContent()).toContain(green);
    expect(
      await trashed
        .first()
        .getByText(/^Trashed /)
        .count(),
    ).toBe(1);
    expect(await trashed.first().getByRole("img", { name: "A grey square" }).count()).toBe(1);
    await trashed
      .getByRole("img")
      .evaluateAll((imgs: HTMLImageElement[]) => Promise.all(imgs.map((i) => i.decode().catch(() => {}))));
    expect(serious(await axeViolations(page))).toEqual([]);
    await screenshot(page, "trash-light");

    await page.getByRole("button", { name: `Restore ${grey}` }).click();
    await expect.poll(() => trashed.count()).toBe(1);
    await toast(`Restored ${grey}`).waitFor();
    // Back in the gallery at once, in its place (no reload).
    await page.getByRole("link", { name: "Photos", exact: true }).click();
    await waitForDescribed(page, 5);
    expect(await (await photoItems(page)).getByRole("img", { name: "A grey square" }).count()).toBe(1);

    await page.getByRole("link", { name: /^Trash/ }).click();
    await expect.poll(() => trashed.count()).toBe(1);
    await page.getByRole("button", { name: `Delete for good: ${green}` }).click();
    const confirm = page.getByRole("dialog", { name: "Delete this photo for good?" });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain("cannot be undone");
    await page.keyboard.press("Escape");
    await expect.poll(() => confirm.isVisible()).toBe(false);
    expect(await trashed.count()).toBe(1);
    await page.getByRole("button", { name: `Delete for good: ${green}` }).click();
    await confirm.getByRole("button", { name: "Delete for good" }).click();
    await page.getByRole("heading", { name: "The trash is empty" }).waitFor();
    await toast(`Deleted ${green} for good`).waitFor();

    await page.getByRole("link", { name: "Photos", exact: true }).click();
    await waitForDescribed(page, 5);
    await page.reload();
    await waitForDescribed(page, 5);
    expect(await (await photoItems(page)).getByRole("img", { name: "A green picture" }).count()).toBe(1);
    expectCleanPage(problems);
  });

  it("shows statistics: photos, tokens and money", async () => {
    await page.getByRole("link", { name: "Statistics" }).click();
    await page.getByRole("heading", { name: "Statistics", level: 1 }).waitFor();
    await page.waitForURL(/\/stats$/);
    const tiles = page.locator(".stat-tiles");
    await tiles.getByText("Money spent").waitFor();
    expect(await page.getByRole("table").first().getByRole("row", { name: /Food/ }).count()).toBe(1);
    expect(serious(await axeViolations(page))).toEqual([]);
    await screenshot(page, "stats-light");

    // With a remote embedder, its model and cost are listed and counted in the money spent (the API's own
    // answer, plus one embedding model: this server has no embedder).
    let described = Number.NaN; // what the fake analyser cost
    await page.route("**/api/stats", async (route) => {
      const stats = await (await route.fetch()).json();
      described = stats.cost_usd;
      const embedding = {
        model: "bedrock:amazon.titan-embed-image-v1",
        images: 5,
        input_tokens: 90,
        cost_usd: 0.25,
      };
      await route.fulfill({
        json: { ...stats, embedding_cost_usd: 0.25, by_embedding_model: [embedding] },
      });
    });
    await page.reload();
    const embedder = page.getByRole("row", { name: /amazon\.titan-embed-image-v1/ });
    await embedder.waitFor();
    expect(await embedder.getByRole("cell").allTextContents()).toEqual([
      "bedrock",
      "amazon.titan-embed-image-v1",
      "Search by meaning",
      "5",
      "$0.25",
    ]);
    const spent = tiles.locator(".stat-tile", { hasText: "Money spent" }).locator("dd");
    expect(await spent.textContent()).toBe(`$${(described + 0.25).toFixed(2)}`);
    await embedder.scrollIntoViewIfNeeded();
    await screenshot(page, "stats-embeddings");
    await page.unroute("**/api/stats");
    await page.getByRole("link", { name: "Photos", exact: true }).click();
    await waitForDescribed(page, 5);
  });

  it.skipIf(!HAS_TESTDATA)("uploads real photos and describes them", async () => {
    const names = [
      "skimage-data/astronaut.png",
      "skimage-data/coffee.png",
      "skimage-data/chelsea.png",
      "skimage-data/rocket.jpg",
    ];
    const files: Fixture[] = [];
    for (const name of names) {
      const buffer = await readFile(testdataPath(name)).catch(() => null);
      if (buffer) files.push({ name: path.basename(name), mimeType: "application/octet-stream", buffer });
    }
    expect(files.length).toBeGreaterThan(0);
    await page.getByLabel("Upload photos").setInputFiles(files);
    await waitForDescribed(page, 5 + files.length);
    await page.getByRole("button", { name: "Dismiss uploads" }).click();
    await screenshot(page, "gallery-real-light");
  });

  it("looks right in dark mode and on a phone", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    // Let the 0.01 ms colour transitions (reduced motion) finish: axe must see the dark colours of the buttons.
    await page.evaluate(
      () =>
        new Promise((resolve) =>
          requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 50))),
        ),
    );
    expect(serious(await axeViolations(page))).toEqual([]);
    await screenshot(page, "gallery-dark");
    await (await photoItems(page)).first().getByRole("button").first().click();
    await page
      .getByRole("dialog")
      .getByRole("img")
      .evaluate((img: HTMLImageElement) => img.decode().catch(() => {}));
    expect(serious(await axeViolations(page, ".photo-dialog"))).toEqual([]);
    await screenshot(page, "detail-dark");
    await page.keyboard.press("Escape");

    const phone = await chromium.browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: "light",
      reducedMotion: "reduce",
    });
    const { page: mobile, problems: mobileProblems } = await openPage(phone);
    await mobile.goto(server.url);
    await waitForDescribed(mobile, await (await photoItems(page)).count());
    expect(serious(await axeViolations(mobile))).toEqual([]);
    const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(mobile, "gallery-phone");
    await (await photoItems(mobile)).first().getByRole("button").first().click();
    await mobile.getByRole("dialog").waitFor();
    await screenshot(mobile, "detail-phone");
    expectCleanPage(mobileProblems);
    await phone.close();
    await page.emulateMedia({ colorScheme: "light" });
  });
});

if (!HAS_TESTDATA) console.warn(`[skip] real-photo upload in the browser: ${TESTDATA_SKIP_REASON}`);
if (!HAS_CHROMIUM) console.warn(`[skip] web gallery e2e: ${CHROMIUM_SKIP_REASON}`);
