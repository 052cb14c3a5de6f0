import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { errorMessage, isPhotocatError } from "../../src/domain/errors.js";
import { silentLogger } from "../../src/logger.js";
import { ingestFile } from "../../src/services/ingest.js";
import { HAS_TESTDATA, TESTDATA_DIR, TESTDATA_SKIP_REASON } from "../support/testdata.js";
import { inspectStore } from "./support/consistency.js";
import { mutations } from "./support/mutations.js";
import { generatedPhoto } from "./support/photos.js";

/** The codes a user may see for a file we refuse; anything else (internal, no code) is a bug. */
const CLEAR_CODES = new Set([
  "unsupported_media_type",
  "corrupt_image",
  "image_too_large",
  "file_too_large",
  "empty_file",
]);
const HANG_MS = 10_000;
/** Beyond this the file is reported as hung (and the test stops waiting for it). */
const GIVE_UP_MS = 20_000;
/** A real HEIC photo to damage, when the shared test data is present. */
const HEIC_BASE = "exif-samples/heic/samplefilehub.heif";

interface Outcome {
  name: string;
  ms: number;
  id?: string;
  code?: string;
  message?: string;
}

/** Runs every file through ingest one at a time, timing each; never throws. */
async function ingestAll(container: Container, files: { name: string; path: string }[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const file of files) {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${GIVE_UP_MS} ms`)), GIVE_UP_MS);
    });
    try {
      const result = await Promise.race([
        ingestFile(container.ingestDeps, container.ingestLimits, {
          path: file.path,
          originalName: file.name,
        }),
        giveUp,
      ]);
      outcomes.push({ name: file.name, ms: performance.now() - started, id: result.image.id });
    } catch (error) {
      outcomes.push({
        name: file.name,
        ms: performance.now() - started,
        code: isPhotocatError(error) ? error.code : "NOT A PHOTOCAT ERROR",
        message: errorMessage(error),
      });
    } finally {
      clearTimeout(timer);
    }
  }
  return outcomes;
}

function summarise(label: string, outcomes: Outcome[]): void {
  const codes = new Map<string, number>();
  for (const o of outcomes) codes.set(o.code ?? "accepted", (codes.get(o.code ?? "accepted") ?? 0) + 1);
  const slowest = outcomes.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.info(
    `[faults] ${label}: ${outcomes.length} files, ${JSON.stringify(Object.fromEntries(codes))}; ` +
      `slowest ${slowest.ms.toFixed(0)} ms (${slowest.name})`,
  );
}

async function expectConsistent(dataDir: string, outcomes: Outcome[]): Promise<void> {
  const store = await inspectStore(dataDir);
  const accepted = new Set(outcomes.filter((o) => o.id).map((o) => o.id));
  expect(new Set(store.records.map((r) => r.id))).toEqual(accepted);
  expect(store.problems).toEqual([]);
  expect(store.strangeKeys).toEqual([]);
  // Rejected files leave nothing behind.
  expect(store.orphanKeys).toEqual([]);
}

function expectNoHangAndClearErrors(outcomes: Outcome[]): void {
  expect(outcomes.filter((o) => o.ms > HANG_MS).map((o) => `${o.name}: ${o.ms.toFixed(0)} ms`)).toEqual([]);
  expect(
    outcomes
      .filter((o) => o.code && !CLEAR_CODES.has(o.code))
      .map((o) => `${o.name}: ${o.code} ${o.message}`),
  ).toEqual([]);
  // Every refusal explains itself.
  expect(outcomes.filter((o) => o.code && !(o.message && o.message.length > 10))).toEqual([]);
}

describe("bad input at volume through ingest", () => {
  let workDir = "";

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), "photocat-faults-input-"));
  });
  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function withContainer(name: string, work: (container: Container) => Promise<Outcome[]>) {
    const dataDir = path.join(workDir, name);
    const container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dataDir }), {
      logger: silentLogger(),
    });
    try {
      return { dataDir, outcomes: await work(container) };
    } finally {
      await container.close();
    }
  }

  it("takes 1,000 seeded mutations of valid JPEG, PNG, WebP and HEIC files without crash, hang or vague error", async () => {
    const bases = [
      { name: "photo.jpg", bytes: await generatedPhoto(1, { width: 800, height: 600 }) },
      {
        name: "progressive.jpg",
        bytes: await sharp(await generatedPhoto(2, { width: 640, height: 480, format: "png" }))
          .withExif({ IFD0: { Make: "FaultCam", Model: "X1" } })
          .jpeg({ progressive: true })
          .toBuffer(),
      },
      { name: "photo.png", bytes: await generatedPhoto(3, { width: 320, height: 240, format: "png" }) },
      { name: "photo.webp", bytes: await generatedPhoto(4, { width: 640, height: 480, format: "webp" }) },
    ];
    const heic = path.join(TESTDATA_DIR, HEIC_BASE);
    if (existsSync(heic)) bases.push({ name: "photo.heic", bytes: await readFile(heic) });
    else console.warn(`[skip] no HEIC base file: ${TESTDATA_SKIP_REASON}`);

    const files = mutations(bases, 1000, 20261126);
    const folder = path.join(workDir, "mutations");
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true });
    for (const m of files) await writeFile(path.join(folder, m.name), m.bytes);

    const { dataDir, outcomes } = await withContainer("mutated", (container) =>
      ingestAll(
        container,
        files.map((m) => ({ name: m.name, path: path.join(folder, m.name) })),
      ),
    );
    summarise("1,000 mutations", outcomes);
    expect(outcomes).toHaveLength(1000);
    expectNoHangAndClearErrors(outcomes);
    // Damage must be noticed: most mutations are refused, yet some (harmless flips) are fine photos.
    expect(outcomes.filter((o) => o.code).length).toBeGreaterThan(300);
    await expectConsistent(dataDir, outcomes);
  }, 600_000);

  it.skipIf(!HAS_TESTDATA)(
    "takes every file of ../shared/testdata without crash, hang or vague error",
    async () => {
      const entries = await readdir(TESTDATA_DIR, { recursive: true, withFileTypes: true });
      const files = entries
        .filter((e) => e.isFile())
        .map((e) => {
          const full = path.join(e.parentPath, e.name);
          return { name: path.relative(TESTDATA_DIR, full), path: full };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
      const { dataDir, outcomes } = await withContainer("testdata", (container) =>
        ingestAll(container, files),
      );
      summarise("../shared/testdata", outcomes);
      expect(outcomes).toHaveLength(files.length);
      expectNoHangAndClearErrors(outcomes);
      await expectConsistent(dataDir, outcomes);
    },
    900_000,
  );
});
