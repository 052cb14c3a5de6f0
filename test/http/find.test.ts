import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageJson } from "../../src/api/present.js";
import { PROMPT_VERSION } from "../../src/domain/analysis.js";
import { startPhotocat } from "../../src/entry/start.js";
import type { Analyser } from "../../src/ports/analyser.js";
import { solidImage } from "../support/fake-analyser.js";
import { until } from "../support/wait.js";

/** Each colour stands for a photo: what a model would say of it, and an embedding that follows the colour. */
const PHOTOS = {
  red: "A dog running on the beach.",
  yellow: "Two kittens asleep on a sofa.",
  green: "A horse in a paddock.",
  blue: "A red car parked in the street.",
  cyan: "Lemons in a blue bowl.",
  grey: "A guy reading on a bench.",
} as const;
type Colour = keyof typeof PHOTOS;
const RGB: Record<Colour, [number, number, number]> = {
  red: [220, 0, 0],
  yellow: [220, 220, 0],
  green: [0, 220, 0],
  blue: [0, 0, 220],
  cyan: [0, 220, 220],
  grey: [128, 128, 128],
};

/** Describes by colour; the grey photo gets no embedding (an analyser without one). */
function describingAnalyser(): Analyser {
  return {
    provider: "fake",
    model: "fake-1",
    async analyse(input) {
      const { channels } = await sharp(input.bytes).stats();
      const [r = 0, g = 0, b = 0] = channels.map((c) => c.mean);
      const colour =
        (Object.entries(RGB) as [Colour, number[]][]).sort(
          ([, x], [, y]) =>
            Math.hypot(x[0]! - r, x[1]! - g, x[2]! - b) - Math.hypot(y[0]! - r, y[1]! - g, y[2]! - b),
        )[0]?.[0] ?? "grey";
      return {
        summary: PHOTOS[colour],
        category: "other",
        tags: [],
        altText: PHOTOS[colour],
        text: null,
        confidence: 0.9,
        ...(colour === "grey"
          ? {}
          : { embedding: { model: "test-colours", vector: RGB[colour].map((v) => (v > 100 ? 1 : 0)) } }),
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

describe("HTTP API: search by meaning and similar photos", () => {
  let dataDir: string;
  let app: Awaited<ReturnType<typeof startPhotocat>>;
  const ids = new Map<Colour, string>();
  const colourOf = (id: string) => [...ids].find(([, v]) => v === id)?.[0];

  const get = async <T>(url: string) => {
    const response = await fetch(`${app.url}${url}`);
    return { status: response.status, body: (await response.json()) as T };
  };
  const found = async (q: string) =>
    (await get<{ items: ImageJson[] }>(`/api/images?q=${encodeURIComponent(q)}`)).body.items
      .map((i) => colourOf(i.id))
      .sort();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-find-"));
    app = await startPhotocat({ dataDir, analyser: describingAnalyser() });
    const form = new FormData();
    for (const [i, [colour, [r, g, b]]] of Object.entries(RGB).entries()) {
      const bytes = await solidImage({ r, g, b }, i);
      form.append("file", new Blob([new Uint8Array(bytes)], { type: "image/jpeg" }), `${colour}.jpg`);
    }
    const uploaded = await fetch(`${app.url}/api/images`, { method: "POST", body: form });
    expect(uploaded.status).toBe(201);
    for (const image of ((await uploaded.json()) as { images: ImageJson[] }).images) {
      ids.set(image.original_name.replace(".jpg", "") as Colour, image.id);
    }
    await until(async () => {
      const { body } = await get<{ items: ImageJson[] }>("/api/images?status=done");
      return body.items.length === ids.size;
    });
  });
  afterAll(async () => {
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("finds by meaning what exact words missed", async () => {
    expect(await found("animal")).toEqual(["green", "red", "yellow"]);
    expect(await found("automobile")).toEqual(["blue"]);
    expect(await found("fruit")).toEqual(["cyan"]);
    expect(await found("cat")).toEqual(["yellow"]);
    expect(await found("animals beach")).toEqual(["red"]);
    expect(await found("cat bench")).toEqual([]);
  });

  it("gives the nearest photos by embedding, itself and the trash left out", async () => {
    const similar = async (colour: Colour, limit = 12) =>
      (
        await get<{ items: ImageJson[] }>(`/api/images/${ids.get(colour)}/similar?limit=${limit}`)
      ).body.items.map((i) => colourOf(i.id));
    // red (1,0,0): yellow (1,1,0) is nearest; green and blue share nothing, cyan is opposite-ish.
    expect((await similar("red"))[0]).toBe("yellow");
    expect(await similar("red")).not.toContain("red");
    expect(await similar("red")).not.toContain("grey");
    expect(await similar("cyan", 2)).toEqual(expect.arrayContaining(["green", "blue"]));
    expect(await similar("cyan", 2)).toHaveLength(2);

    const trashed = await fetch(`${app.url}/api/images/${ids.get("yellow")}`, { method: "DELETE" });
    expect(trashed.status).toBe(204);
    expect(await similar("red")).not.toContain("yellow");
    await fetch(`${app.url}/api/images/${ids.get("yellow")}/restore`, { method: "POST" });
    expect((await similar("red"))[0]).toBe("yellow");
  });

  it("says why when a photo has no embedding, is unknown, or the limit is wrong", async () => {
    const none = await get<{ error: { code: string; message: string } }>(
      `/api/images/${ids.get("grey")}/similar`,
    );
    expect(none.status).toBe(409);
    expect(none.body.error.message).toMatch(/no embedding yet/);
    const unknown = await get<{ error: { code: string } }>(
      "/api/images/00000000-0000-4000-8000-000000000000/similar",
    );
    expect(unknown.status).toBe(404);
    const badLimit = await get<{ error: { message: string } }>(
      `/api/images/${ids.get("red")}/similar?limit=0`,
    );
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.message).toMatch(/limit/);
  });
});
