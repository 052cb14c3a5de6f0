import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PhotocatError } from "../../src/domain/errors.js";
import { configureDecodes, decodeSettings, withDecodeSlot } from "../../src/media/decode-slots.js";
import { inspectImage } from "../../src/media/inspect.js";
import { HAS_TESTDATA, TESTDATA_SKIP_REASON, testdataPath } from "../support/testdata.js";
import { noiseImage } from "./fixtures.js";

const LIMITS = { maxPixels: 100_000_000 };
const initial = decodeSettings();
let dir: string;
let jpeg: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "photocat-slots-"));
  jpeg = path.join(dir, "good.jpg");
  await writeFile(jpeg, await noiseImage(1600, 1200).jpeg().toBuffer());
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => configureDecodes(initial));

/** Takes every decode slot until the returned function is called. */
function saturate(): () => void {
  const releases: (() => void)[] = [];
  for (let i = 0; i < decodeSettings().concurrency; i++) {
    void withDecodeSlot(() => new Promise<void>((resolve) => releases.push(resolve)), {
      timeoutMs: 60_000,
    }).catch(() => {});
  }
  return () => {
    for (const release of releases) release();
  };
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

describe("decode slots", () => {
  it("runs at most the configured number of decodes at once", async () => {
    configureDecodes({ concurrency: 2 });
    let active = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        withDecodeSlot(async () => {
          most = Math.max(most, ++active);
          await new Promise((r) => setTimeout(r, 20));
          active--;
        }),
      ),
    );
    expect(most).toBe(2);
  });

  it("starts a decode's clock when it gets a slot, not while it waits for one", async () => {
    configureDecodes({ concurrency: 1 });
    const release = saturate();
    setTimeout(release, 1500);
    // Waits 1.5 s for the slot, then has 1.2 s of its own: the old clock (from the call) would have run out.
    const image = await inspectImage(jpeg, { ...LIMITS, timeoutMs: 1200, queueMs: 10_000 });
    expect(image.width).toBe(1600);
  });

  it("answers a good JPEG with 503 busy and a retry time when no slot frees up in time, never corrupt", async () => {
    configureDecodes({ concurrency: 1, queueMs: 100 });
    const release = saturate();
    try {
      const error = await outcome(inspectImage(jpeg, LIMITS));
      expect(error).toBeInstanceOf(PhotocatError);
      expect(error).toMatchObject({ code: "busy", status: 503, retryAfterS: expect.any(Number) });
      expect((error as Error).message).toMatch(/try again/);
    } finally {
      release();
    }
  });

  it("answers a good JPEG with 503 busy when its decode overruns the deadline", async () => {
    const error = await outcome(inspectImage(jpeg, { ...LIMITS, timeoutMs: 1 }));
    expect(error).toMatchObject({ code: "busy", status: 503 });
  });

  it.skipIf(!HAS_TESTDATA)(
    "answers a good HEIC with 503 busy when its decode overruns the deadline",
    async () => {
      const file = testdataPath("exif-samples/heic/IMG_5195.HEIC");
      const started = performance.now();
      const error = await outcome(inspectImage(file, { ...LIMITS, timeoutMs: 100 }));
      expect(error).toMatchObject({ code: "busy", status: 503 });
      expect(performance.now() - started).toBeLessThan(1000);
      // The worker was stopped and the slot freed: the same file then decodes normally.
      await expect(inspectImage(file, LIMITS)).resolves.toMatchObject({ width: 2566, height: 3313 });
    },
    30_000,
  );
});
if (!HAS_TESTDATA) console.warn(`[skip] HEIC deadline test: ${TESTDATA_SKIP_REASON}`);
