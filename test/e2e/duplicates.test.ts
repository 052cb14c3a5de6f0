import type { Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sceneImage } from "../media/fixtures.js";
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

/** Three pictures, each in several copies, and one picture alone. */
async function uploads(): Promise<{ name: string; bytes: Buffer; type: string }[]> {
  const files = [];
  for (const [seed, label] of [
    [41, "harbour"],
    [42, "forest"],
    [43, "station"],
  ] as const) {
    const png = await sceneImage(960, 640, seed);
    files.push({ name: `${label}.png`, bytes: png, type: "image/png" });
    files.push({
      name: `${label}-small.jpg`,
      bytes: await sharp(png).resize(480).jpeg({ quality: 70 }).toBuffer(),
      type: "image/jpeg",
    });
    files.push({
      name: `${label}-crop.webp`,
      bytes: await sharp(png)
        .extract({ left: 0, top: 0, width: 912, height: 640 })
        .webp({ quality: 80 })
        .toBuffer(),
      type: "image/webp",
    });
  }
  files.push({
    name: "alone.jpg",
    bytes: await sharp(await sceneImage(960, 640, 44))
      .jpeg()
      .toBuffer(),
    type: "image/jpeg",
  });
  return files;
}

describe.skipIf(!HAS_CHROMIUM)("the Duplicates view in Chromium", () => {
  let server: TestServer;
  let chromium: BrowserPage;
  let page: Page;
  let problems: PageProblems;
  const ids = new Map<string, string>();

  const api = (pathname: string, init?: RequestInit) => fetch(`${server.url}${pathname}`, init);
  const groups = () => page.getByRole("list", { name: "Groups of duplicates" }).getByRole("listitem");
  const group = (n: number) => page.getByRole("region", { name: new RegExp(`^Group ${n}: `) });
  const toast = (text: string) => page.getByRole("status").filter({ hasText: text });
  const trashedAt = async (name: string) =>
    ((await (await api(`/api/images/${ids.get(name)}`)).json()) as { trashed_at: string | null }).trashed_at;

  beforeAll(async () => {
    await ensureWebBuilt();
    server = await startTestServer("dup", fakeAnalyser());
    const form = new FormData();
    for (const file of await uploads())
      form.append("file", new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
    const response = await api("/api/images", { method: "POST", body: form });
    expect(response.status).toBe(201);
    for (const image of ((await response.json()) as { images: { id: string; original_name: string }[] })
      .images)
      ids.set(image.original_name, image.id);
    chromium = await openBrowserPage({ viewport: { width: 1280, height: 900 }, defaultTimeoutMs: 10_000 });
    ({ page, problems } = chromium);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it("is linked from the header and shows each group side by side, the best copy chosen, with format, size and dimensions", async () => {
    await page.goto(server.url);
    await page.getByRole("link", { name: "Duplicates" }).click();
    await page.waitForURL(/\/duplicates$/);
    await page.getByRole("heading", { name: "Duplicates", level: 1 }).waitFor();
    await expect.poll(() => groups().count()).toBe(3);
    await page.getByText("3 groups, 6 extra copies").waitFor();
    const first = group(1);
    expect(await first.getByRole("heading", { name: "Group 1: 3 copies" }).count()).toBe(1);
    const keep = first.getByRole("radio", {
      name: /^Keep harbour\.png|^Keep forest\.png|^Keep station\.png/,
    });
    expect(await keep.isChecked()).toBe(true);
    expect(await first.getByText("PNG", { exact: true }).count()).toBe(1);
    expect(await first.getByText("960 × 640", { exact: true }).count()).toBe(1);
    expect(await first.getByText("480 × 320", { exact: true }).count()).toBe(1);
    expect(await first.getByText("WebP", { exact: true }).count()).toBe(1);
    expect(await first.getByText(/^\d+ KB$/).count()).toBe(3);
    await page.evaluate(() =>
      Promise.all([...document.querySelectorAll("img")].map((i) => i.decode().catch(() => {}))),
    );
    expect(serious(await axeViolations(page))).toEqual([]);
    await screenshot(page, "duplicates-desktop");
  });

  it("keeps the copy chosen in one group and moves the others to the trash", async () => {
    const first = group(1);
    const name = (await first.getByRole("heading").textContent()) ?? "";
    expect(name).toBe("Group 1: 3 copies");
    // Choose the small JPEG instead of the best copy.
    const small = first.getByRole("radio", { name: /-small\.jpg$/ });
    const smallName = await small.evaluate((input) => input.closest("label")?.textContent ?? "");
    await small.check();
    await first.getByRole("button", { name: "Keep the chosen copy, trash 2 others" }).click();
    await toast("moved 2 copies to the trash").waitFor();
    await expect.poll(() => groups().count()).toBe(2);
    const kept = smallName.replace(/^Keep /, "").trim();
    expect(await trashedAt(kept)).toBeNull();
    const label = kept.replace(/-small\.jpg$/, "");
    expect(await trashedAt(`${label}.png`)).not.toBeNull();
    expect(await trashedAt(`${label}-crop.webp`)).not.toBeNull();
    // Focus moves on to the next group's heading.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.textContent ?? ""))
      .toMatch(/^Group 1: 3 copies$/);
  });

  it("marks a group as not duplicates, then keeps the best of every group at once", async () => {
    const before = await groups().count();
    await group(1).getByRole("button", { name: "Not duplicates" }).click();
    await toast("Marked as not duplicates").waitFor();
    await expect.poll(() => groups().count()).toBe(before - 1);
    const listed = (await (await api("/api/duplicates")).json()) as { groups: unknown[] };
    expect(listed.groups).toHaveLength(1);

    await page.getByRole("button", { name: "Keep the best of every group" }).click();
    const confirm = page.getByRole("dialog", { name: "Keep the best of every group?" });
    await confirm.getByText("2 copies in 1 group will move to the trash").waitFor();
    expect(serious(await axeViolations(page))).toEqual([]);
    await confirm.getByRole("button", { name: "Move 2 copies to the trash" }).click();
    await page.getByRole("heading", { name: "No duplicates" }).waitFor();
    expect(((await (await api("/api/duplicates")).json()) as { groups: unknown[] }).groups).toEqual([]);
    expect(serious(await axeViolations(page))).toEqual([]);
    await screenshot(page, "duplicates-done");
    // Nothing is lost: the trash holds the four copies moved there.
    const trash = (await (await api("/api/images?trashed=true")).json()) as { items: unknown[] };
    expect(trash.items).toHaveLength(4);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
  });

  it("passes axe on a phone, in light and dark", async () => {
    // Copies again, to have a group to show.
    const png = await sceneImage(960, 640, 50);
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(png)], { type: "image/png" }), "boat.png");
    form.append(
      "file",
      new Blob([new Uint8Array(await sharp(png).resize(320).jpeg().toBuffer())], { type: "image/jpeg" }),
      "boat-small.jpg",
    );
    expect((await api("/api/images", { method: "POST", body: form })).status).toBe(201);
    const phone = await chromium.browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: "light",
      reducedMotion: "reduce",
    });
    const { page: mobile, problems: mobileProblems } = await openPage(phone);
    await mobile.goto(`${server.url}/duplicates`);
    await mobile.getByRole("region", { name: "Group 1: 2 copies" }).waitFor();
    await mobile.evaluate(() =>
      Promise.all([...document.querySelectorAll("img")].map((i) => i.decode().catch(() => {}))),
    );
    expect(serious(await axeViolations(mobile))).toEqual([]);
    expect(
      await mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).toBeLessThanOrEqual(0);
    await screenshot(mobile, "duplicates-phone");
    await mobile.emulateMedia({ colorScheme: "dark" });
    await mobile.evaluate(
      () =>
        new Promise((resolve) =>
          requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 50))),
        ),
    );
    expect(serious(await axeViolations(mobile))).toEqual([]);
    await screenshot(mobile, "duplicates-phone-dark");
    expect(mobileProblems.pageErrors).toEqual([]);
    await phone.close();
  }, 90_000);
});

if (!HAS_CHROMIUM) console.warn(`[skip] Duplicates view e2e: ${CHROMIUM_SKIP_REASON}`);
