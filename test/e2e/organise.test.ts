import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { photoWithExif } from "../support/exif-photo.js";
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

type ApiImage = {
  id: string;
  original_name: string;
  category: string;
  tags: string[];
  trashed_at: string | null;
};

const CITIES = {
  paris: { lat: 48.8566, lon: 2.3522 },
  london: { lat: 51.5072, lon: -0.1276 },
  lima: { lat: -12.0464, lon: -77.0428 },
  tokyo: { lat: 35.6762, lon: 139.6503 },
} as const;

/** 36 photos over 2012-2023, most geotagged; red, green and blue ones (food, nature, vehicles). */
function library() {
  const cities = Object.entries(CITIES);
  return Array.from({ length: 36 }, (_, i) => {
    const year = 2012 + (i % 12);
    const month = String(1 + ((i * 5) % 12)).padStart(2, "0");
    const [city, gps] = cities[i % cities.length]!;
    const colour = [
      { r: 210, g: 40, b: 30 },
      { r: 40, g: 180, b: 60 },
      { r: 30, g: 60, b: 210 },
    ][i % 3]!;
    return {
      name: `${city}-${year}-${month}-${i}.jpg`,
      takenAt: `${year}-${month}-1${i % 9}T12:00:00`,
      gps: i % 6 === 5 ? undefined : gps,
      colour,
      seed: i + 100,
    };
  });
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

describe.skipIf(!HAS_CHROMIUM)("albums, selection, timeline and map in Chromium", () => {
  let server: TestServer;
  let chromium: BrowserPage;
  let page: Page;
  let problems: PageProblems;
  const photos = library();

  const api = async <T>(pathname: string, init?: RequestInit): Promise<T> =>
    (await (await fetch(`${server.url}${pathname}`, init)).json()) as T;
  const grid = () => page.getByRole("list", { name: "Photos" });
  const cards = () => grid().getByRole("listitem");
  const cardButton = (index: number) => cards().nth(index).getByRole("button").first();
  const toast = (text: string) => page.getByRole("status").filter({ hasText: text });
  const bar = () => page.getByRole("region", { name: "Selected photos" });
  const pageHasNoSeriousViolations = async (p: Page = page) =>
    expect(serious(await axeViolations(p))).toEqual([]);

  beforeAll(async () => {
    await ensureWebBuilt();
    server = await startTestServer("organise", fakeAnalyser());
    const form = new FormData();
    for (const p of photos) {
      const bytes = await photoWithExif({ seed: p.seed, colour: p.colour, takenAt: p.takenAt, gps: p.gps });
      form.append("file", new Blob([new Uint8Array(bytes)], { type: "image/jpeg" }), p.name);
    }
    const response = await fetch(`${server.url}/api/images`, { method: "POST", body: form });
    expect(response.status).toBe(201);
    // Every photo described, so categories and counts are settled.
    for (let waited = 0; ; waited += 200) {
      if ((await api<{ by_status: { done: number } }>("/api/stats")).by_status.done === photos.length) break;
      if (waited > 30_000) throw new Error("the photos were never all described");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    chromium = await openBrowserPage({ viewport: { width: 1280, height: 860 }, defaultTimeoutMs: 10_000 });
    ({ page, problems } = chromium);
  }, 120_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it("selects with click, shift-click and select all; sets a category, adds tags, trashes with Undo", async () => {
    await page.goto(server.url);
    await cards().first().waitFor();
    await page.getByRole("button", { name: "Select", exact: true }).click();
    await bar().waitFor();
    await cardButton(0).click();
    await cardButton(3).click({ modifiers: ["Shift"] });
    await bar().getByText("4 photos selected").waitFor();
    expect(await grid().getByRole("button", { pressed: true }).count()).toBe(4);
    const chosen = await grid()
      .getByRole("button", { pressed: true })
      .evaluateAll((buttons) => buttons.map((b) => (b as HTMLElement).dataset.photoId!));
    // A click on a selected photo takes it out.
    await cardButton(3).click();
    await bar().getByText("3 photos selected").waitFor();
    await cardButton(3).click();
    await imagesShown(page);
    await pageHasNoSeriousViolations();
    await screenshot(page, "organise-selection-desktop");

    await bar().getByLabel("Set category").selectOption("art");
    await toast("Set 4 photos to Art.").waitFor();
    for (const id of chosen) expect((await api<ApiImage>(`/api/images/${id}`)).category).toBe("art");

    await bar().getByRole("button", { name: "Add tags" }).click();
    const tagsDialog = page.getByRole("dialog", { name: "Add tags to 4 photos" });
    await tagsDialog.getByLabel("Tags").fill("holiday, Beach");
    await tagsDialog.getByRole("button", { name: "Add tags" }).click();
    await toast("Added 2 tags to 4 photos.").waitFor();
    expect((await api<ApiImage>(`/api/images/${chosen[0]}`)).tags).toEqual(
      expect.arrayContaining(["holiday", "beach"]),
    );

    await bar()
      .getByRole("button", { name: `Select all ${photos.length}` })
      .click();
    await bar().getByText(`${photos.length} photos selected`).waitFor();
    await bar().getByRole("button", { name: "Clear" }).click();
    await bar().getByText("0 photos selected").waitFor();

    await cardButton(0).click();
    await cardButton(1).click();
    const trashedIds = await grid()
      .getByRole("button", { pressed: true })
      .evaluateAll((buttons) => buttons.map((b) => (b as HTMLElement).dataset.photoId!));
    await bar().getByRole("button", { name: "Move to trash" }).click();
    await toast("Moved 2 photos to the trash.").waitFor();
    // The grid renders only the rows in view: the heading's count tells the whole.
    await page.getByText(`${photos.length - 2} photos`, { exact: true }).waitFor();
    for (const id of trashedIds) expect(await grid().locator(`[data-photo-id="${id}"]`).count()).toBe(0);
    expect(
      (await api<{ items: ApiImage[] }>("/api/images?trashed=true")).items.map((i) => i.id).sort(),
    ).toEqual(trashedIds.sort());
    await page.getByRole("button", { name: "Undo" }).click();
    await toast("Restored 2 photos.").waitFor();
    await page.getByText(`${photos.length} photos`, { exact: true }).waitFor();

    await page.keyboard.press("Escape");
    await expect.poll(() => bar().count()).toBe(0);
    expect(await grid().getByRole("button", { pressed: true }).count()).toBe(0);
    expect(problems.pageErrors).toEqual([]);
  }, 90_000);

  it("creates an album, adds the selection, chooses the cover, takes a photo out, renames and deletes it", async () => {
    await page.getByRole("link", { name: "Albums", exact: true }).click();
    await page.getByRole("heading", { name: "No albums yet" }).waitFor();
    await page.getByRole("button", { name: "New album" }).click();
    const create = page.getByRole("dialog", { name: "New album" });
    await create.getByLabel("Name").fill("Best of");
    await create.getByRole("button", { name: "Create album" }).click();
    await page.getByRole("heading", { name: "Best of", level: 1 }).waitFor();
    await page.getByRole("heading", { name: "This album is empty" }).waitFor();
    expect(page.url()).toMatch(/\/albums\/[0-9a-f-]{36}$/);

    await page.getByRole("link", { name: "Photos", exact: true }).click();
    await cards().first().waitFor();
    await page.getByRole("button", { name: "Select", exact: true }).click();
    for (const i of [0, 1, 2]) await cardButton(i).click();
    await bar().getByRole("button", { name: "Add to album" }).click();
    const choose = page.getByRole("dialog", { name: "Add to album" });
    await choose.getByLabel("Album").selectOption({ label: "Best of (0)" });
    await choose.getByRole("button", { name: "Add" }).click();
    await toast("Added 3 photos to Best of.").waitFor();

    await page.getByRole("link", { name: "Albums", exact: true }).click();
    await page.getByRole("link", { name: /^Best of\s*3 photos$/ }).click();
    await page.getByRole("heading", { name: "Best of", level: 1 }).waitFor();
    await expect.poll(() => cards().count()).toBe(3);

    await page.getByRole("button", { name: "Select", exact: true }).click();
    await cardButton(2).click();
    const coverId = await cardButton(2).getAttribute("data-photo-id");
    await bar().getByRole("button", { name: "Use as cover" }).click();
    await toast("The cover of Best of is set.").waitFor();
    const albums =
      await api<{ name: string; cover: { id: string } | null; cover_chosen: boolean }[]>("/api/albums");
    expect(albums[0]).toMatchObject({ name: "Best of", cover: { id: coverId }, cover_chosen: true });

    await bar().getByRole("button", { name: "Clear" }).click();
    await cardButton(0).click();
    await bar().getByRole("button", { name: "Remove from album" }).click();
    await toast("Took 1 photo out of Best of.").waitFor();
    await expect.poll(() => cards().count()).toBe(2);
    await page.getByText("2 photos", { exact: true }).first().waitFor();
    await page.keyboard.press("Escape");

    await page.getByRole("button", { name: "Rename" }).click();
    const rename = page.getByRole("dialog", { name: "Rename album" });
    await rename.getByLabel("Name").fill("Best of 2012-2014");
    await rename.getByRole("button", { name: "Rename" }).click();
    await page.getByRole("heading", { name: "Best of 2012-2014", level: 1 }).waitFor();
    await imagesShown(page);
    await pageHasNoSeriousViolations();
    await screenshot(page, "organise-album-desktop");

    await page.getByRole("link", { name: "← Albums" }).click();
    await page.getByRole("link", { name: /^Best of 2012-2014\s*2 photos$/ }).waitFor();
    await imagesShown(page);
    await pageHasNoSeriousViolations();
    await screenshot(page, "organise-albums-desktop");

    await page.getByRole("link", { name: /^Best of 2012-2014/ }).click();
    await page.getByRole("button", { name: "Delete album" }).click();
    const confirm = page.getByRole("dialog", { name: "Delete the album “Best of 2012-2014”?" });
    await confirm.getByRole("button", { name: "Delete album" }).click();
    await page.getByRole("heading", { name: "No albums yet" }).waitFor();
    // The album went; its photos stay.
    expect((await api<ApiImage>(`/api/images/${coverId}`)).trashed_at).toBeNull();
    expect(problems.pageErrors).toEqual([]);
  }, 90_000);

  it("jumps to a month with the timeline's scrubber, newest taken first", async () => {
    await page.getByRole("link", { name: "Photos", exact: true }).click();
    const timeline = page.getByRole("navigation", { name: "Timeline" });
    await timeline.getByRole("button", { name: /^2014, \d+ photos?$/ }).click();
    await page.waitForURL(/order=taken/);
    const url = new URL(page.url());
    expect(url.searchParams.get("to")).toMatch(/^2014-\d{2}-\d{2}$/);
    const expected = await api<{ items: ApiImage[] }>(
      `/api/images?order=taken&to=${url.searchParams.get("to")}&limit=3`,
    );
    await expect.poll(() => cards().first().getByRole("img").getAttribute("alt")).toBeTruthy();
    const shown = await cardButton(0).getAttribute("data-photo-id");
    expect(shown).toBe(expected.items[0]!.id);

    const month = timeline.getByRole("button", { name: /^[A-Z][a-z]+ 2014, \d+ photos?$/ }).last();
    await month.click();
    await expect.poll(() => month.getAttribute("aria-current")).toBe("true");
    const to = new URL(page.url()).searchParams.get("to")!;
    const name = new Date(`${to}T00:00:00Z`).toLocaleString("en", { month: "long", timeZone: "UTC" });
    await page.getByText(`taken up to ${name} 2014`).waitFor();
    await imagesShown(page);
    await pageHasNoSeriousViolations();
    await screenshot(page, "organise-timeline-desktop");

    await timeline.getByRole("button", { name: "Newest" }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get("to")).toBeNull();
    expect(problems.pageErrors).toEqual([]);
  }, 60_000);

  it("draws the places offline, a cluster zooms in, a place opens its photos; a search becomes a smart album", async () => {
    await page.getByRole("link", { name: "Map", exact: true }).click();
    await page.getByRole("heading", { name: "Map", level: 1 }).waitFor();
    const map = page.locator("svg.map");
    // Paris and London are close at world scale: one cluster.
    const cluster = map.getByRole("button", {
      name: /^(Paris, France|London, United Kingdom) and 1 other place: \d+ photos\. Zoom in$/,
    });
    await cluster.waitFor();
    await imagesShown(page);
    await pageHasNoSeriousViolations();
    await screenshot(page, "organise-map-desktop");
    await cluster.click();
    const paris = map.getByRole("link", { name: /^Paris, France: \d+ photos$/ });
    await paris.waitFor();
    await screenshot(page, "organise-map-zoomed-desktop");
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await paris.click();
    await page.getByRole("heading", { name: "Photos taken in Paris, France" }).waitFor();
    const inParis = photos.filter((p) => p.name.startsWith("paris") && p.gps).length;
    await expect.poll(() => cards().count()).toBe(inParis);
    expect(requests.every((r) => r.startsWith(server.url))).toBe(true);

    await page.getByRole("button", { name: "Save as smart album" }).click();
    const save = page.getByRole("dialog", { name: "Save as smart album" });
    await save.getByLabel("Name").fill("Paris");
    await save.getByRole("button", { name: "Save album" }).click();
    await page.getByRole("heading", { name: "Paris", level: 1 }).waitFor();
    await page.getByText(/smart album: taken in Paris, France/).waitFor();
    await expect.poll(() => cards().count()).toBe(inParis);

    await page.getByRole("link", { name: "Map", exact: true }).click();
    await page.getByRole("region", { name: "Places" }).getByRole("link", { name: "Lima, Peru" }).click();
    await page.getByRole("button", { name: "Remove the place filter: Lima, Peru" }).click();
    await page.getByRole("heading", { name: "Photos", level: 1 }).waitFor();
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
  }, 60_000);

  it("fits a phone: albums, the selection bar, the timeline's jump list and the map, light and dark", async () => {
    const phone = await chromium.browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: "light",
      reducedMotion: "reduce",
    });
    const { page: mobile, problems: mobileProblems } = await openPage(phone);
    const overflow = () => mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await mobile.goto(server.url);
    await mobile.getByRole("list", { name: "Photos" }).getByRole("listitem").first().waitFor();
    await mobile.getByLabel("Jump to").selectOption({ index: 3 });
    await mobile.waitForURL(/order=taken/);
    await mobile.getByRole("button", { name: "Select", exact: true }).click();
    await mobile.getByRole("list", { name: "Photos" }).getByRole("button").first().click();
    await mobile.getByRole("region", { name: "Selected photos" }).getByText("1 photo selected").waitFor();
    await imagesShown(mobile);
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(serious(await axeViolations(mobile))).toEqual([]);
    await screenshot(mobile, "organise-selection-phone");

    await mobile.goto(`${server.url}/map`);
    await mobile.locator("svg.map").waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(serious(await axeViolations(mobile))).toEqual([]);
    await screenshot(mobile, "organise-map-phone");

    await mobile.goto(`${server.url}/albums`);
    await mobile.getByRole("list", { name: "Albums" }).getByRole("link").first().waitFor();
    await imagesShown(mobile);
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(serious(await axeViolations(mobile))).toEqual([]);
    await screenshot(mobile, "organise-albums-phone");
    await mobile.emulateMedia({ colorScheme: "dark" });
    await mobile.evaluate(
      () =>
        new Promise((resolve) =>
          requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 50))),
        ),
    );
    expect(serious(await axeViolations(mobile))).toEqual([]);
    await screenshot(mobile, "organise-albums-phone-dark");
    await mobile.goto(`${server.url}/map`);
    await mobile.locator("svg.map").waitFor();
    expect(serious(await axeViolations(mobile))).toEqual([]);
    await screenshot(mobile, "organise-map-phone-dark");
    expect(mobileProblems.pageErrors).toEqual([]);
    await phone.close();
  }, 90_000);
});

if (!HAS_CHROMIUM) console.warn(`[skip] albums, selection, timeline and map e2e: ${CHROMIUM_SKIP_REASON}`);
