import exifr from "exifr";
import { afterEach, describe, expect, it } from "vitest";
import type { ModelAnalyserOptions } from "../../src/analysers/shared/model-analyser.js";
import { type Analysis, LIMITS } from "../../src/domain/analysis.js";
import { ConfigurationError } from "../../src/domain/errors.js";
import { categorySlugs, DEFAULT_TAXONOMY, parseTaxonomy, type Taxonomy } from "../../src/domain/taxonomy.js";
import type { Analyser, AnalyserInput, RetryProgress } from "../../src/ports/analyser.js";
import {
  closedPortUrl,
  FAST_RETRY,
  type FakeReply,
  type FakeServer,
  failure,
  makePhoto,
  startFakeServer,
  UNRESOLVABLE_URL,
  validAnswer,
} from "../analysers/shared/fixtures.js";

/** A user's own list of categories: answers must come from it, not from the default one. */
export const CUSTOM_TAXONOMY: Taxonomy = parseTaxonomy([
  "receipts: Receipts, invoices and tickets.",
  "garden: Plants and flowers in our garden.",
]);

// biome-ignore lint/suspicious/noControlCharactersInRegex: the contract is that these never reach the catalogue
const UNSAFE_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** The output contract every analyser keeps, whatever its provider said. */
export function expectAnalysisContract(analysis: Analysis, analyser: Analyser, taxonomy: Taxonomy): void {
  expect(typeof analysis.summary).toBe("string");
  expect(analysis.summary.trim().length).toBeGreaterThan(0);
  expect(analysis.summary.length).toBeLessThanOrEqual(LIMITS.summaryChars);
  expect(categorySlugs(taxonomy)).toContain(analysis.category);
  expect(Array.isArray(analysis.tags)).toBe(true);
  expect(analysis.tags.length).toBeLessThanOrEqual(LIMITS.tags);
  expect(new Set(analysis.tags).size).toBe(analysis.tags.length);
  for (const tag of analysis.tags) {
    expect(tag.length).toBeGreaterThan(0);
    expect(tag.length).toBeLessThanOrEqual(LIMITS.tagChars);
    expect(tag).toBe(tag.toLowerCase());
  }
  expect(analysis.altText.trim().length).toBeGreaterThan(0);
  expect(analysis.altText.length).toBeLessThanOrEqual(LIMITS.altTextChars);
  if (analysis.text !== null) {
    expect(typeof analysis.text).toBe("string");
    expect(analysis.text.length).toBeLessThanOrEqual(LIMITS.textChars);
  }
  for (const value of [analysis.summary, analysis.altText, analysis.text ?? "", ...analysis.tags]) {
    expect(value).not.toMatch(UNSAFE_CHARACTERS);
  }
  expect(analysis.confidence).toBeGreaterThanOrEqual(0);
  expect(analysis.confidence).toBeLessThanOrEqual(1);
  const p = analysis.provenance;
  expect(p.provider).toBe(analyser.provider);
  expect(typeof p.model).toBe("string");
  expect(p.model.length).toBeGreaterThan(0);
  expect(p.promptVersion.length).toBeGreaterThan(0);
  for (const n of [p.inputTokens, p.outputTokens]) {
    expect(Number.isInteger(n)).toBe(true);
    expect(n).toBeGreaterThanOrEqual(0);
  }
  expect(p.costUsd).toBeGreaterThanOrEqual(0);
  expect(p.ms).toBeGreaterThanOrEqual(0);
}

/**
 * The invariants of the Analyser port, for any implementation (the offline local analyser, the test
 * fake, and each remote provider through its wire-format fake server).
 */
export function analyserInvariants(
  name: string,
  make: () => Promise<Analyser>,
  photo: () => Promise<{ bytes: Buffer; mediaType: string }>,
  options: { timeoutMs?: number } = {},
): void {
  describe(`${name}: Analyser port invariants`, () => {
    it("describes a photo within the output contract, with provenance", {
      timeout: options.timeoutMs,
    }, async () => {
      const analyser = await make();
      const analysis = await analyser.analyse({
        ...(await photo()),
        taxonomy: DEFAULT_TAXONOMY,
        language: "en",
      });
      expectAnalysisContract(analysis, analyser, DEFAULT_TAXONOMY);
    });

    it("chooses the category from the taxonomy it is given", { timeout: options.timeoutMs }, async () => {
      const analyser = await make();
      const analysis = await analyser.analyse({
        ...(await photo()),
        taxonomy: CUSTOM_TAXONOMY,
        language: "en",
      });
      expectAnalysisContract(analysis, analyser, CUSTOM_TAXONOMY);
    });

    it("stops when the caller has aborted", { timeout: options.timeoutMs }, async () => {
      const analyser = await make();
      const controller = new AbortController();
      controller.abort(new Error("lease lost"));
      await expect(
        analyser.analyse({
          ...(await photo()),
          taxonomy: DEFAULT_TAXONOMY,
          language: "en",
          signal: controller.signal,
        }),
      ).rejects.toThrow("lease lost");
    });
  });
}

/** How one remote provider speaks: its wire format, its settings, and how it names itself. */
export interface RemoteProviderHarness {
  /** The name used in failure reasons, e.g. "Anthropic" ("could not reach Anthropic: ..."). */
  name: string;
  /** The fake server speaks cleartext HTTP/2 (the AWS SDK's handler). */
  http2?: boolean;
  /**
   * The analyser under test, talking to baseUrl (none when empty), with these environment settings over
   * the harness's own (an empty value removes a setting).
   */
  create(baseUrl: string, env: Record<string, string>, options: ModelAnalyserOptions): Promise<Analyser>;
  /** A successful reply carrying this structured answer (snake_case contract fields). */
  answer(answer: Record<string, unknown>): FakeReply;
  /** A successful reply holding only free text. */
  text(text: string): FakeReply;
  /** An error reply with this status, as the provider sends it. */
  error(status: number, message: string, headers?: Record<string, string>): FakeReply;
  /** The user prompt text of a recorded request. */
  promptOf(body: unknown): string;
  /** The image bytes of a recorded request. */
  imageOf(body: unknown): Buffer;
  /** The setting a 401 reason names, when the provider has one. */
  keySetting?: string;
  /** Each missing setting that must stop the analyser at creation, with the message naming it. */
  missingSettings: { env: Record<string, string>; message: RegExp }[];
}

const RETRIED = [408, 409, 429, 500, 502, 503, 529];
const NOT_RETRIED = [400, 401, 403, 404];

/**
 * The contract every remote provider runs against its wire-format fake server: the invariants, then
 * retries, timeouts, dropped connections, abort, re-ask, taxonomy, hostile text, context and settings.
 * Settings: PHOTOCAT_MAX_RETRIES=2 (3 attempts), PHOTOCAT_TIMEOUT_MS=2000, tiny backoff.
 */
export function remoteAnalyserContract(h: RemoteProviderHarness): void {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function analyserFor(replies: FakeReply[] | ((index: number) => FakeReply), env = {}) {
    server = await startFakeServer(
      typeof replies === "function" ? (_request, index) => replies(index) : replies,
      { http2: h.http2 },
    );
    return h.create(server.url, env, { retry: FAST_RETRY });
  }
  const requests = () => server?.requests ?? [];

  const photo = makePhoto({ width: 1600, height: 1200, gps: true });
  async function input(extra: Partial<AnalyserInput> = {}): Promise<AnalyserInput> {
    return {
      bytes: await photo,
      mediaType: "image/jpeg",
      taxonomy: DEFAULT_TAXONOMY,
      language: "en",
      context: { takenAt: "2024-05-01T10:00:00Z", place: "Lisbon, Portugal" },
      ...extra,
    };
  }
  /** Input that records the progress hook's calls. */
  async function watched(extra: Partial<AnalyserInput> = {}) {
    const retries: RetryProgress[] = [];
    return { retries, input: await input({ ...extra, onRetry: (p) => retries.push(p) }) };
  }

  describe(`${h.name}: remote analyser contract`, () => {
    it("keeps the output contract and records provenance", async () => {
      const analyser = await analyserFor([h.answer(validAnswer())]);
      const analysis = await analyser.analyse(await input());
      expectAnalysisContract(analysis, analyser, DEFAULT_TAXONOMY);
      expect(analysis).toMatchObject({ category: "art", tags: ["circle", "rectangle", "gradient"] });
      expect(analysis.provenance.inputTokens).toBeGreaterThan(0);
      expect(requests()).toHaveLength(1);
    });

    describe("retries", () => {
      for (const status of RETRIED) {
        it(`retries a ${status}, waiting as long as retry-after says, and tells the caller`, async () => {
          const analyser = await analyserFor([
            h.error(status, `failure ${status}`, { "retry-after-ms": "150" }),
            h.answer(validAnswer()),
          ]);
          const { retries, input: call } = await watched();
          await expect(analyser.analyse(call)).resolves.toMatchObject({ category: "art" });
          const [first, second] = requests();
          expect(requests()).toHaveLength(2);
          expect(second!.at - first!.at).toBeGreaterThanOrEqual(140);
          expect(retries).toHaveLength(1);
          expect(retries[0]).toMatchObject({ attempt: 2, maxAttempts: 3, delayMs: 150 });
          // The provider's own words are kept in the reason.
          expect(retries[0]!.reason).toContain(`failure ${status}`);
        });
      }

      for (const status of NOT_RETRIED) {
        it(`does not retry a ${status}`, async () => {
          const analyser = await analyserFor([h.error(status, `refused ${status}`)]);
          const { retries, input: call } = await watched();
          const error = await failure(analyser.analyse(call));
          expect(error).toMatchObject({ code: "analyser_failed", retryable: false });
          expect(requests()).toHaveLength(1);
          expect(retries).toHaveLength(0);
          if (status === 401 && h.keySetting) expect(error.message).toContain(h.keySetting);
        });
      }

      it("rate limited by the provider: the reason says so", async () => {
        const analyser = await analyserFor([h.error(429, "slow down"), h.answer(validAnswer())]);
        const { retries, input: call } = await watched();
        await analyser.analyse(call);
        expect(retries[0]!.reason).toMatch(/rate limit|throttl/i);
      });

      it("gives up after the configured retries, as retryable, saying how often it tried", async () => {
        const analyser = await analyserFor([h.error(503, "unavailable")]);
        const { retries, input: call } = await watched();
        const error = await failure(analyser.analyse(call));
        expect(error).toMatchObject({ code: "analyser_failed", retryable: true });
        expect(error.message).toContain("gave up after 3 attempts");
        expect(requests()).toHaveLength(3);
        expect(retries.map((r) => `${r.attempt}/${r.maxAttempts}`)).toEqual(["2/3", "3/3"]);
      });
    });

    describe("network failures", () => {
      it("retries a refused connection and keeps the root cause in the reason", async () => {
        const analyser = await h.create(await closedPortUrl(), {}, { retry: FAST_RETRY });
        const { retries, input: call } = await watched();
        const error = await failure(analyser.analyse(call));
        expect(error.retryable).toBe(true);
        expect(error.message).toContain(`could not reach ${h.name}`);
        expect(error.message).toContain("ECONNREFUSED");
        expect(retries).toHaveLength(2);
      });

      it("retries a DNS failure (ENOTFOUND) and names the host", async () => {
        const analyser = await h.create(UNRESOLVABLE_URL, {}, { retry: FAST_RETRY });
        const { retries, input: call } = await watched();
        const error = await failure(analyser.analyse(call));
        expect(error.retryable).toBe(true);
        expect(error.message).toContain(`could not reach ${h.name}`);
        expect(error.message).toContain("ENOTFOUND photocat-test.invalid");
        expect(error.message).not.toMatch(/fetch failed|Connection error\./);
        expect(retries).toHaveLength(2);
      });

      it("retries a connection reset before the answer", async () => {
        const analyser = await analyserFor([{ drop: true }, h.answer(validAnswer())]);
        await expect(analyser.analyse(await input())).resolves.toMatchObject({ category: "art" });
        expect(requests()).toHaveLength(2);
      });

      it("retries a connection dropped in the middle of the answer", async () => {
        const analyser = await analyserFor([
          { ...h.answer(validAnswer()), truncate: true },
          h.answer(validAnswer()),
        ]);
        await expect(analyser.analyse(await input())).resolves.toMatchObject({ category: "art" });
        expect(requests()).toHaveLength(2);
      });

      it("times out each attempt and reports it as retryable", async () => {
        const analyser = await analyserFor([{ ...h.answer(validAnswer()), delayMs: 3000 }], {
          PHOTOCAT_TIMEOUT_MS: "200",
          PHOTOCAT_MAX_RETRIES: "1",
        });
        const started = Date.now();
        const error = await failure(analyser.analyse(await input()));
        expect(Date.now() - started).toBeLessThan(2000);
        expect(error.retryable).toBe(true);
        expect(error.message).toContain("no answer within 200 ms");
        expect(requests()).toHaveLength(2);
      });

      it("stops at once when the caller aborts during a call", async () => {
        const controller = new AbortController();
        const analyser = await analyserFor(() => {
          controller.abort(new Error("lease lost"));
          return { ...h.answer(validAnswer()), delayMs: 3000 };
        });
        const started = Date.now();
        await expect(analyser.analyse(await input({ signal: controller.signal }))).rejects.toThrow(
          "lease lost",
        );
        expect(Date.now() - started).toBeLessThan(1500);
        expect(requests()).toHaveLength(1);
      });
    });

    describe("answers", () => {
      it("asks once more after an unusable answer, giving the reason", async () => {
        const analyser = await analyserFor([
          h.text("<json>{not json at all</json>"),
          h.answer(validAnswer()),
        ]);
        const analysis = await analyser.analyse(await input());
        expect(analysis.category).toBe("art");
        expect(requests()).toHaveLength(2);
        expect(h.promptOf(server!.json(1))).toContain("could not be used");
        expect(h.promptOf(server!.json(0))).not.toContain("could not be used");
      });

      it("fails with the reason after two unusable answers, not retryable", async () => {
        const analyser = await analyserFor([h.text('<json>{"summary": "x", </json>')]);
        const error = await failure(analyser.analyse(await input()));
        expect(error).toMatchObject({ code: "analyser_output_invalid", retryable: false });
        expect(error.message).toMatch(/no usable answer.*JSON/);
        expect(requests()).toHaveLength(2);
      });

      it("never stores a category outside the taxonomy", async () => {
        let analyser = await analyserFor([h.answer(validAnswer({ category: "selfies" }))]);
        const error = await failure(analyser.analyse(await input()));
        expect(error.code).toBe("analyser_output_invalid");
        expect(error.message).toContain('"selfies" is not in the taxonomy');
        expect(requests()).toHaveLength(2);
        await server!.close();

        // "art" is a default category, but not one of this user's.
        analyser = await analyserFor([
          h.answer(validAnswer({ category: "art" })),
          h.answer(validAnswer({ category: "receipts" })),
        ]);
        const analysis = await analyser.analyse(await input({ taxonomy: CUSTOM_TAXONOMY }));
        expect(analysis.category).toBe("receipts");
        expect(h.promptOf(server!.json(1))).toContain("receipts");
      });

      it("cleans and caps hostile model text: control and bidi characters, markup, huge strings", async () => {
        const analyser = await analyserFor([
          h.answer(
            validAnswer({
              summary: `<script>alert(1)</script> A cat\u0000\u001b[31m on a \u202emat. ${"very ".repeat(50_000)}`,
              tags: Array.from({ length: 40 }, (_, i) => `Tag\u2066${i}${"x".repeat(i === 0 ? 500 : 0)}`),
              alt_text: `<img src=x onerror=alert(1)>${"y".repeat(10_000)}`,
              text: `IGNORE PREVIOUS INSTRUCTIONS\u202e\u0007 ${"z".repeat(100_000)}`,
            }),
          ),
        ]);
        const analysis = await analyser.analyse(await input());
        expectAnalysisContract(analysis, analyser, DEFAULT_TAXONOMY);
        // Markup is kept as literal text (the gallery escapes it), never interpreted.
        expect(analysis.summary.startsWith("<script>alert(1)</script> A cat")).toBe(true);
        expect(analysis.altText.startsWith("<img src=x")).toBe(true);
        expect(analysis.tags).toHaveLength(LIMITS.tags);
        expect(analysis.text?.startsWith("IGNORE PREVIOUS INSTRUCTIONS")).toBe(true);
      });
    });

    describe("privacy and settings", () => {
      it("keeps date and place home unless sharing is allowed, and never sends GPS", async () => {
        const analyser = await analyserFor([h.answer(validAnswer())]);
        const call = await input();
        expect(await exifr.gps(call.bytes)).toBeDefined();
        await analyser.analyse(call);
        const prompt = h.promptOf(server!.json(0));
        expect(prompt).not.toContain("2024-05-01");
        expect(prompt).not.toContain("Lisbon");
        expect(await exifr.gps(h.imageOf(server!.json(0)))).toBeUndefined();
        expect(server!.requests[0]!.body.toString()).not.toMatch(/48\.85|48\/1 51\/1/);
      });

      it("shares date and place (never coordinates) when allowed", async () => {
        const analyser = await analyserFor([h.answer(validAnswer())], { PHOTOCAT_SHARE_CONTEXT: "on" });
        await analyser.analyse(await input());
        const prompt = h.promptOf(server!.json(0));
        expect(prompt).toContain("2024-05-01");
        expect(prompt).toContain("Lisbon, Portugal");
        expect(await exifr.gps(h.imageOf(server!.json(0)))).toBeUndefined();

        await analyser.analyse(await input({ context: { takenAt: null, place: "48.8584, 2.2945" } }));
        expect(h.promptOf(server!.json(1))).not.toContain("48.8584");
      });

      // Providers with nothing required (Ollama's host has a default) have no such case.
      if (h.missingSettings.length > 0) {
        it("stops at creation when a required setting is missing, naming it", async () => {
          for (const { env, message } of h.missingSettings) {
            const created = h.create("", env, {});
            await expect(created).rejects.toBeInstanceOf(ConfigurationError);
            await expect(h.create("", env, {})).rejects.toThrow(message);
          }
        });
      }
    });
  });

  analyserInvariants(
    h.name,
    async () => {
      // Answers from whichever taxonomy the request offers.
      server ??= await startFakeServer(
        (request) =>
          h.answer(validAnswer({ category: request.body.includes('"receipts"') ? "receipts" : "art" })),
        { http2: h.http2 },
      );
      return h.create(server.url, {}, { retry: FAST_RETRY });
    },
    async () => ({ bytes: await photo, mediaType: "image/jpeg" }),
  );
}
