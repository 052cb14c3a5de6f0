import { afterEach, describe, expect, it } from "vitest";
import { type BatchOutcome, createAnthropicBatches } from "../../../src/analysers/anthropic/batch.js";
import { anthropicSettings } from "../../../src/analysers/registry.js";
import { ANSWER_TOOL_NAME } from "../../../src/analysers/shared/prompt.js";
import { DEFAULT_TAXONOMY } from "../../../src/domain/taxonomy.js";
import {
  at,
  type FakeReply,
  type FakeServer,
  makePhoto,
  type RecordedRequest,
  startFakeServer,
  testConfig,
  validAnswer,
} from "../shared/fixtures.js";

const IDS = [
  "0b6f3c1e-1111-4a5b-9c1d-000000000001",
  "0b6f3c1e-2222-4a5b-9c1d-000000000002",
  "0b6f3c1e-3333-4a5b-9c1d-000000000003",
];

/** A fake of the Message Batches endpoints: batches end after `pollsUntilEnded` status checks. */
function batchApi(url: () => string, pollsUntilEnded: number) {
  const created: { id: string; count: number }[] = [];
  let polls = 0;
  const batch = (id: string, count: number, ended: boolean) => ({
    id,
    type: "message_batch",
    processing_status: ended ? "ended" : "in_progress",
    request_counts: {
      processing: ended ? 0 : count,
      succeeded: ended ? count - 1 : 0,
      errored: ended ? 1 : 0,
      canceled: 0,
      expired: 0,
    },
    created_at: "2026-11-26T10:00:00Z",
    ended_at: ended ? "2026-11-26T10:20:00Z" : null,
    expires_at: "2026-11-27T10:00:00Z",
    archived_at: null,
    cancel_initiated_at: null,
    results_url: ended ? `${url()}/v1/messages/batches/${id}/results` : null,
  });
  const message = (input: unknown) => ({
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-haiku-4-5-20251001",
    content: [{ type: "tool_use", id: "toolu_1", name: ANSWER_TOOL_NAME, input }],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: { input_tokens: 1600, output_tokens: 100 },
  });
  const handler = (request: RecordedRequest): FakeReply => {
    if (request.method === "POST" && request.url === "/v1/messages/batches") {
      const body = JSON.parse(request.body.toString()) as { requests: unknown[] };
      const id = `msgbatch_${created.length + 1}`;
      created.push({ id, count: body.requests.length });
      return { body: batch(id, body.requests.length, false) };
    }
    const results = /^\/v1\/messages\/batches\/(msgbatch_\d+)\/results$/.exec(request.url);
    if (results) {
      const lines = [
        { custom_id: IDS[0], result: { type: "succeeded", message: message(validAnswer()) } },
        {
          custom_id: IDS[1],
          result: { type: "succeeded", message: message(validAnswer({ category: "selfies" })) },
        },
        {
          custom_id: IDS[2],
          result: {
            type: "errored",
            error: {
              type: "error",
              error: { type: "overloaded_error", message: "Overloaded" },
              request_id: null,
            },
          },
        },
      ];
      return {
        headers: { "content-type": "application/binary" },
        body: `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`,
      };
    }
    const status = /^\/v1\/messages\/batches\/(msgbatch_\d+)$/.exec(request.url);
    if (status) {
      polls++;
      const found = created.find((b) => b.id === status[1]) ?? { id: status[1] ?? "", count: 3 };
      return { body: batch(found.id, found.count, polls >= pollsUntilEnded) };
    }
    return { status: 404, body: { type: "error", error: { type: "not_found_error", message: request.url } } };
  };
  return { handler, created };
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const photos = async () => {
  const bytes = await makePhoto({ width: 2000, height: 1500 });
  return IDS.map((id) => ({ id, bytes, mediaType: "image/jpeg" }));
};

describe("anthropic message batches", () => {
  it("submits prepared requests keyed by image id, polls, and streams validated results at half price", async () => {
    const api = batchApi(() => server!.url, 2);
    server = await startFakeServer((request) => api.handler(request));
    const config = testConfig({ ANTHROPIC_API_KEY: "sk-ant-test", ANTHROPIC_BASE_URL: server.url });
    const batches = createAnthropicBatches(anthropicSettings(config));

    const { batches: submitted, skipped } = await batches.submit(await photos(), {
      taxonomy: DEFAULT_TAXONOMY,
      language: "en",
    });
    expect(skipped).toEqual([]);
    expect(submitted).toEqual([{ batchId: "msgbatch_1", imageIds: IDS }]);
    const body = JSON.parse(server.requests[0]!.body.toString()) as unknown;
    expect(at(body, "requests", 0, "custom_id")).toBe(IDS[0]);
    expect(at(body, "requests", 0, "params", "tool_choice")).toEqual({
      type: "tool",
      name: ANSWER_TOOL_NAME,
    });
    expect(at(body, "requests", 0, "params", "messages", 0, "content", 0, "source", "media_type")).toBe(
      "image/jpeg",
    );

    const seen: number[] = [];
    const progress = await batches.waitUntilEnded("msgbatch_1", {
      intervalMs: 5,
      onProgress: (p) => seen.push(p.done),
    });
    expect(progress).toMatchObject({ state: "ended", total: 3, done: 3 });
    expect(seen).toEqual([0, 3]);

    // A fresh instance stands for a restarted process that kept only the batch id.
    const outcomes: BatchOutcome[] = [];
    for await (const outcome of createAnthropicBatches(anthropicSettings(config)).results(
      "msgbatch_1",
      DEFAULT_TAXONOMY,
    )) {
      outcomes.push(outcome);
    }
    expect(outcomes.map((o) => o.imageId)).toEqual(IDS);
    const [ok, invalid, failed] = outcomes;
    expect(ok && "analysis" in ok && ok.analysis.provenance).toMatchObject({
      provider: "anthropic",
      inputTokens: 1600,
      outputTokens: 100,
      costUsd: ((1600 * 1 + 100 * 5) / 1e6) * 0.5,
    });
    expect(invalid && "error" in invalid && invalid.error.code).toBe("analyser_output_invalid");
    expect(failed && "error" in failed && [failed.error.code, failed.error.retryable]).toEqual([
      "analyser_failed",
      true,
    ]);
  });

  it("splits large submissions into several batches and skips photos that cannot be prepared", async () => {
    const api = batchApi(() => server!.url, 1);
    server = await startFakeServer((request) => api.handler(request));
    const config = testConfig({ ANTHROPIC_API_KEY: "sk-ant-test", ANTHROPIC_BASE_URL: server.url });
    const list = await photos();
    list.push({ id: "bad", bytes: Buffer.from("not an image"), mediaType: "image/jpeg" });
    const { batches, skipped } = await createAnthropicBatches(anthropicSettings(config), {
      maxRequests: 2,
    }).submit(list, {
      taxonomy: DEFAULT_TAXONOMY,
      language: "en",
    });
    expect(batches.map((b) => b.imageIds.length)).toEqual([2, 1]);
    expect(api.created).toHaveLength(2);
    expect(skipped.map((s) => s.imageId)).toEqual(["bad"]);
    expect(skipped[0]?.error.code).toMatch(/^(corrupt_image|unsupported_media_type)$/);
  });
});
