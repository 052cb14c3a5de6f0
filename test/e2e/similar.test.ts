import type { Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROMPT_VERSION } from "../../src/domain/analysis.js";
import type { Analyser } from "../../src/ports/analyser.js";
import { solidImage } from "../support/fake-analyser.js";
import { until } from "../support/wait.js";
import {
  axeViolations,
  type BrowserPage,
  CHROMIUM_SKIP_REASON,
  ensureWebBuilt,
  HAS_CHROMIUM,
  openBrowserPage,
  type PageProblems,
  screenshot,
  serious,
  startTestServer,
  type TestServer,
} from "./browser.js";

const COLOURS = {
  red: [220, 20, 20],
  orange: [220, 120, 20],
  blue: [20, 20, 220],
  navy: [20, 20, 120],
  grey: [128, 128, 128],
} as const;
type Colour = keyof typeof COLOURS;

/** Names the colour in its words, and gives an embedding that is the mean colour (grey gets none). */
function colourAnalyser(): Analyser {
  return {
    provider: "fake",
    model: "fake-1",
    async analyse(input) {
      const { channels } = await sharp(input.bytes).stats();
      const rgb = channels.slice(0, 3).map((c) => c.mean);
      const colour =
        (Object.entries(COLOURS) as [Colour, readonly number[]][]).sort(
          ([, a], [, b]) =>
            Math.hypot(...a.map((v, i) => v - rgb[i]!)) - Math.hypot(...b.map((v, i) => v - rgb[i]!)),
        )[0]?.[0] ?? "grey";
      return {
        summary: `A ${colour} square.`,
        category: "other",
        tags: [colour],
        altText: `A ${colour} square`,
        text: null,
        confidence: 0.9,
        ...(colour === "grey"
          ? {}
          : { embedding: { model: "colour", vector: rgb.map((v) => v / 255 - 0.5) } }),
        provenance: {
          provider: "fake",
          model: "fake-1",
          promptVersion: PROMPT_VERSION,
          inputTokens: 1,
          outputTokens: 1,
          costUsd: 0,
          ms: 0,
        },
      };
    },
  };
}

describe.skipIf(!HAS_CHROMIUM)("More like this in Chromium", () => {
  let server: TestServer;
  let chromium: BrowserPage;
  let page: Page;
  let problems: PageProblems;

  const openPhoto = async (alt: string) => {
    const card = page
      .getByRole("list", { name: "Photos" })
      .getByRole("listitem")
      .filter({ has: page.getByRole("img", { name: alt }) });
    await card.first().getByRole("button").first().click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    return dialog;
  };

  beforeAll(async () => {
    await ensureWebBuilt();
    server = await startTestServer("similar", colourAnalyser());
    const form = new FormData();
    for (const [i, [name, [r, g, b]]] of Object.entries(COLOURS).entries()) {
      const bytes = await solidImage({ r, g, b }, i);
      form.append("file", new Blob([new Uint8Array(bytes)], { type: "image/jpeg" }), `${name}.jpg`);
    }
    expect((await fetch(`${server.url}/api/images`, { method: "POST", body: form })).status).toBe(201);
    await until(async () => {
      const page = (await (await fetch(`${server.url}/api/images?status=done`)).json()) as {
        items: unknown[];
      };
      return page.items.length === Object.keys(COLOURS).length;
    });
    chromium = await openBrowserPage({ viewport: { width: 1280, height: 900 }, defaultTimeoutMs: 10_000 });
    ({ page, problems } = chromium);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it("shows the nearest photos from the photo dialog and opens one of them", async () => {
    await page.goto(server.url);
    const dialog = await openPhoto("A red square");
    const more = dialog.getByRole("button", { name: "More like this" });
    expect(await more.getAttribute("aria-expanded")).toBe("false");
    await more.click();
    const list = dialog.getByRole("list", { name: "Similar photos" });
    await list.waitFor();
    expect(await more.getAttribute("aria-expanded")).toBe("true");
    const items = list.getByRole("button");
    // Nearest first: orange is nearest red; the photo itself and the grey one (no embedding) are not there.
    await expect.poll(() => items.count()).toBe(3);
    expect(await items.first().getAttribute("aria-label")).toBe("Open A orange square");
    expect(await list.getByRole("button", { name: "Open A red square" }).count()).toBe(0);
    expect(serious(await axeViolations(page))).toEqual([]);
    await screenshot(page, "similar-photos");

    await items.first().click();
    await dialog.getByRole("heading", { name: "orange.jpg", level: 2 }).waitFor();
    // Another photo: its own neighbours, when asked again.
    expect(await dialog.getByRole("list", { name: "Similar photos" }).count()).toBe(0);
    await dialog.getByRole("button", { name: "More like this" }).click();
    await expect
      .poll(() =>
        dialog
          .getByRole("list", { name: "Similar photos" })
          .getByRole("button")
          .first()
          .getAttribute("aria-label"),
      )
      .toBe("Open A red square");
    await page.keyboard.press("Escape");
  });

  it("says why when a photo has no embedding yet", async () => {
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    const dialog = await openPhoto("A grey square");
    await dialog.getByRole("button", { name: "More like this" }).click();
    await dialog.getByText(/No similar photos yet: this photo has no image embedding/).waitFor();
    expect(serious(await axeViolations(page))).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
  });
});

if (!HAS_CHROMIUM) console.warn(`[skip] More like this e2e: ${CHROMIUM_SKIP_REASON}`);
