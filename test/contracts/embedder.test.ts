import { createHash } from "node:crypto";
import sharp from "sharp";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createBedrockEmbedder } from "../../src/analysers/bedrock/embedder.js";
import {
  bedrockEmbedderSettings,
  ollamaEmbedderSettings,
  openaiEmbedderSettings,
} from "../../src/analysers/embedders.js";
import { createOllamaEmbedder } from "../../src/analysers/ollama/embedder.js";
import { createOpenAIEmbedder } from "../../src/analysers/openai/embedder.js";
import type { EmbedderOptions } from "../../src/analysers/shared/embedding.js";
import type { Embedder } from "../../src/ports/embedder.js";
import { awsError, useFakeAwsCredentials } from "../analysers/providers/bedrock-wire.js";
import {
  closedPortUrl,
  FAST_RETRY,
  type FakeReply,
  type FakeServer,
  failure,
  makePhoto,
  type RecordedRequest,
  startFakeServer,
  testConfig,
} from "../analysers/shared/fixtures.js";

/** What one embedding request asked for, read back from the provider's wire format. */
interface SentInput {
  text: string;
  /** The image as sent (base64), for embedders that see images. */
  image?: string;
}

/** How one provider speaks: its settings, its request and answer formats and its errors. */
interface EmbedderWire {
  name: string;
  /** The fake server speaks cleartext HTTP/2 (the AWS SDK's handler). */
  http2?: boolean;
  create(baseUrl: string, env?: Record<string, string>, options?: EmbedderOptions): Promise<Embedder>;
  /** The vector length the default model gives. */
  dimensions: number;
  seesImages: boolean;
  /** Reads the request; throws when it is not this provider's embedding call. */
  read(request: RecordedRequest): SentInput;
  /** The answer's JSON text, with the vector's JSON text spliced in as is (so it can be malformed). */
  answer(vectorJson: string, tokens: number): string;
  /** An answer without any vector. */
  noVector: unknown;
  error(status: number, message: string): FakeReply;
  /** What the user is told to check on a 401. */
  credentialsHint: RegExp;
  /** The list price: USD for these input tokens and images. */
  listPrice(tokens: number, images: number): number;
}

const PHOTO_DESCRIPTION = "A golden retriever dog running on the beach at sunset, waves behind it";
const OTHER_DESCRIPTION = "Scanned receipt from a grocery store with prices and a total";
const QUERY = "dog on the beach";

const jsonReply = (body: string): FakeReply => ({ body, headers: { "content-type": "application/json" } });
const json = (request: RecordedRequest) =>
  JSON.parse(request.body.toString("utf8")) as Record<string, unknown>;

/** Words of a text, as the fake models read them; the nomic task prefixes are not content. */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/^search_(document|query): /, "")
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * A deterministic stand-in for a model: a hashed bag of words (and one dimension for an image), so texts
 * sharing words end up close and unrelated ones do not. Deliberately not unit length.
 */
function fakeEmbedding(input: SentInput, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const add = (token: string, weight: number) => {
    const index = createHash("sha256").update(token).digest().readUInt32BE(0) % dimensions;
    vector[index] = (vector[index] ?? 0) + weight;
  };
  for (const word of words(input.text)) add(word, 3);
  if (input.image) add("<image>", 1);
  return vector;
}

const TITAN_URL = "/model/amazon.titan-embed-image-v1/invoke";

const WIRES: EmbedderWire[] = [
  {
    name: "Bedrock (Titan Multimodal Embeddings)",
    http2: true,
    create: (baseUrl, env = {}, options) =>
      createBedrockEmbedder(
        bedrockEmbedderSettings(
          testConfig({ AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_BEDROCK_RUNTIME: baseUrl, ...env }),
        ),
        options,
      ),
    dimensions: 1024,
    seesImages: true,
    read(request) {
      expect(request.method).toBe("POST");
      expect(request.url).toBe(TITAN_URL);
      const body = json(request);
      expect(body.embeddingConfig).toEqual({ outputEmbeddingLength: 1024 });
      return {
        text: typeof body.inputText === "string" ? body.inputText : "",
        image: typeof body.inputImage === "string" ? body.inputImage : undefined,
      };
    },
    answer: (vector, tokens) => `{"embedding":${vector},"inputTextTokenCount":${tokens}}`,
    noVector: { inputTextTokenCount: 3 },
    error: (status, message) =>
      awsError(
        status,
        { 400: "ValidationException", 401: "UnrecognizedClientException", 429: "ThrottlingException" }[
          status
        ] ?? "ServiceUnavailableException",
        message,
      ),
    credentialsHint: /AWS credentials/,
    listPrice: (tokens, images) => (tokens / 1000) * 0.0008 + images * 0.00006,
  },
  {
    name: "OpenAI-compatible /v1/embeddings",
    // OpenAI itself (no OPENAI_BASE_URL, the default model), its address answered by the fake server.
    create: (baseUrl, env = {}, options) =>
      createOpenAIEmbedder(openaiEmbedderSettings(testConfig({ OPENAI_API_KEY: "sk-test", ...env })), {
        ...options,
        fetch: (input, init) => fetch(String(input).replace("https://api.openai.com", baseUrl), init),
      }),
    dimensions: 1536,
    seesImages: false,
    read(request) {
      expect(request.method).toBe("POST");
      expect(request.url).toBe("/v1/embeddings");
      expect(request.headers.authorization).toBe("Bearer sk-test");
      const body = json(request);
      expect(body.model).toBe("text-embedding-3-small");
      expect(body.encoding_format).toBe("float");
      expect(typeof body.input).toBe("string");
      return { text: body.input as string };
    },
    answer: (vector, tokens) =>
      `{"object":"list","data":[{"object":"embedding","index":0,"embedding":${vector}}],"model":"text-embedding-3-small","usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}`,
    noVector: { object: "list", data: [], model: "text-embedding-3-small", usage: { prompt_tokens: 3 } },
    error: (status, message) => ({
      status,
      body: { error: { message, type: "invalid_request_error", param: null, code: null } },
    }),
    credentialsHint: /OPENAI_API_KEY/,
    listPrice: (tokens) => (tokens / 1_000_000) * 0.02,
  },
  {
    name: "Ollama /api/embed",
    create: (baseUrl, env = {}, options) =>
      createOllamaEmbedder(ollamaEmbedderSettings(testConfig({ OLLAMA_HOST: baseUrl, ...env })), options),
    dimensions: 768,
    seesImages: false,
    read(request) {
      expect(request.method).toBe("POST");
      expect(request.url).toBe("/api/embed");
      const body = json(request);
      expect(body.model).toBe("nomic-embed-text");
      expect(typeof body.input).toBe("string");
      return { text: body.input as string };
    },
    answer: (vector, tokens) =>
      `{"model":"nomic-embed-text","embeddings":[${vector}],"total_duration":1000,"load_duration":10,"prompt_eval_count":${tokens}}`,
    noVector: { model: "nomic-embed-text", embeddings: [], prompt_eval_count: 3 },
    error: (status, message) => ({ status, body: { error: message } }),
    credentialsHint: /Ollama refused the credentials \(401\)/,
    listPrice: () => 0,
  },
];

useFakeAwsCredentials();

let photo: Buffer;
beforeAll(async () => {
  photo = await makePhoto({ width: 640, height: 480 });
});

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

function expectUnitVector(vector: Float32Array, length: number): void {
  expect(vector).toBeInstanceOf(Float32Array);
  expect(vector.length).toBe(length);
  expect(Math.sqrt(dot(vector, vector))).toBeCloseTo(1, 5);
}

for (const wire of WIRES) {
  describe(`${wire.name}: Embedder port contract`, () => {
    let server: FakeServer | undefined;
    /** The tokens the fake server reported, per request. */
    let reportedTokens: number[] = [];
    afterEach(async () => {
      await server?.close();
      server = undefined;
      reportedTokens = [];
    });

    /**
     * A fake provider that embeds deterministically; `script` answers the first requests instead
     * (errors, malformed answers); a function in it gets the request.
     */
    async function embedderWith(
      script: (FakeReply | ((request: RecordedRequest) => FakeReply))[] = [],
      env: Record<string, string> = {},
    ): Promise<Embedder> {
      server = await startFakeServer(
        (request, index) => {
          const scripted = script[index];
          if (scripted) return typeof scripted === "function" ? scripted(request) : scripted;
          const input = wire.read(request);
          const tokens = words(input.text).length + (input.text ? 2 : 0);
          reportedTokens.push(tokens);
          return jsonReply(wire.answer(JSON.stringify(fakeEmbedding(input, wire.dimensions)), tokens));
        },
        { http2: wire.http2 },
      );
      return wire.create(server.url, env, { retry: FAST_RETRY });
    }

    const photoInput = (description = PHOTO_DESCRIPTION) => ({
      bytes: photo,
      mediaType: "image/jpeg",
      description,
    });

    it("embeds a photo and a query as unit-length vectors of the model's size, saying what it sees", async () => {
      const embedder = await embedderWith();
      expect(embedder.seesImages).toBe(wire.seesImages);
      expect(embedder.model.length).toBeGreaterThan(0);
      const photoEmbedding = await embedder.embedPhoto(photoInput());
      const queryEmbedding = await embedder.embedQuery(QUERY);
      expectUnitVector(photoEmbedding.vector, wire.dimensions);
      expectUnitVector(queryEmbedding.vector, wire.dimensions);
      expect(server?.requests).toHaveLength(2);
      const sentPhoto = wire.read(server!.requests[0]!);
      expect(sentPhoto.text).toContain(PHOTO_DESCRIPTION);
      expect(sentPhoto.image !== undefined).toBe(wire.seesImages);
      const sentQuery = wire.read(server!.requests[1]!);
      expect(sentQuery.text).toContain(QUERY);
      expect(sentQuery.image).toBeUndefined();
    });

    it("puts a query closer to the photo it describes than to an unrelated one", async () => {
      const embedder = await embedderWith();
      const dog = await embedder.embedPhoto(photoInput());
      const receipt = await embedder.embedPhoto(photoInput(OTHER_DESCRIPTION));
      const query = await embedder.embedQuery(QUERY);
      expect(dot(query.vector, dog.vector)).toBeGreaterThan(dot(query.vector, receipt.vector) + 0.2);
    });

    it("records the tokens the provider counted, the images sent and their cost at the list price", async () => {
      const embedder = await embedderWith();
      const photoEmbedding = await embedder.embedPhoto(photoInput());
      const queryEmbedding = await embedder.embedQuery(QUERY);
      const images = wire.seesImages ? 1 : 0;
      expect(photoEmbedding.usage).toMatchObject({ inputTokens: reportedTokens[0], images });
      expect(photoEmbedding.usage.costUsd).toBeCloseTo(wire.listPrice(reportedTokens[0]!, images), 10);
      expect(queryEmbedding.usage).toMatchObject({ inputTokens: reportedTokens[1], images: 0 });
      expect(queryEmbedding.usage.costUsd).toBeCloseTo(wire.listPrice(reportedTokens[1]!, 0), 10);
      expect(photoEmbedding.usage.ms).toBeGreaterThanOrEqual(0);
      if (wire.listPrice(1000, 1) > 0) expect(photoEmbedding.usage.costUsd).toBeGreaterThan(0);
    });

    it("takes a price from PHOTOCAT_PRICES over the built-in one", async () => {
      const model = (await embedderWith()).model;
      await server?.close();
      const embedder = await embedderWith([], {
        PHOTOCAT_PRICES: JSON.stringify({ [model]: { input: 1000, image: 0.5 } }),
      });
      const embedding = await embedder.embedPhoto(photoInput());
      const images = wire.seesImages ? 1 : 0;
      expect(embedding.usage.costUsd).toBeCloseTo((reportedTokens[0]! * 1000) / 1e6 + images * 0.5, 8);
    });

    it("retries when rate limited (429) and when the service is unavailable (503), then succeeds", async () => {
      const embedder = await embedderWith([wire.error(429, "slow down"), wire.error(503, "try again")]);
      const embedding = await embedder.embedQuery(QUERY);
      expectUnitVector(embedding.vector, wire.dimensions);
      expect(server?.requests).toHaveLength(3);
    });

    it("gives each attempt a time limit (PHOTOCAT_TIMEOUT_MS), and tries a slow server again", async () => {
      const embedder = await embedderWith([{ ...wire.error(503, "late"), delayMs: 2_000 }], {
        PHOTOCAT_TIMEOUT_MS: "300",
      });
      const started = Date.now();
      expectUnitVector((await embedder.embedQuery(QUERY)).vector, wire.dimensions);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(server?.requests).toHaveLength(2);
    });

    it("gives up with a retryable embedder_failed when the provider keeps failing", async () => {
      const embedder = await embedderWith([
        wire.error(503, "down"),
        wire.error(503, "down"),
        wire.error(503, "down"),
        wire.error(503, "down"),
      ]);
      const error = await failure(embedder.embedQuery(QUERY));
      expect(error).toMatchObject({ code: "embedder_failed", retryable: true });
      expect(error.message).toMatch(/gave up after 3 attempts/);
    });

    it("does not retry a bad request (400), and says what the provider said", async () => {
      const embedder = await embedderWith([wire.error(400, "input is malformed")]);
      const error = await failure(embedder.embedQuery(QUERY));
      expect(error).toMatchObject({ code: "embedder_failed", retryable: false });
      expect(error.message).toMatch(/rejected the request \(400\).*input is malformed/);
      expect(server?.requests).toHaveLength(1);
    });

    it("does not retry refused credentials (401), and names what to check", async () => {
      const embedder = await embedderWith([wire.error(401, "bad key")]);
      const error = await failure(embedder.embedPhoto(photoInput()));
      expect(error).toMatchObject({ code: "embedder_failed", retryable: false });
      expect(error.message).toMatch(/\(401\)/);
      expect(error.message).toMatch(wire.credentialsHint);
      expect(server?.requests).toHaveLength(1);
    });

    it("retries when the server cannot be reached, then fails naming the cause", async () => {
      const embedder = await wire.create(await closedPortUrl(), {}, { retry: FAST_RETRY });
      const error = await failure(embedder.embedQuery(QUERY));
      expect(error).toMatchObject({ code: "embedder_failed", retryable: true });
      expect(error.message).toMatch(/could not reach|ECONNREFUSED/);
    });

    const zeros = JSON.stringify(new Array(wire.dimensions).fill(0));
    const withValue = (value: string) =>
      `[${[value, ...new Array(wire.dimensions - 1).fill("0.5")].join(",")}]`;
    const malformed: [string, FakeReply, RegExp][] = [
      ["a value that is not a number", jsonReply(wire.answer(withValue('"NaN"'), 3)), /not a finite number/],
      ["a value that overflows to infinity", jsonReply(wire.answer(withValue("1e999"), 3)), /finite/],
      ["a null in the vector", jsonReply(wire.answer(withValue("null"), 3)), /finite/],
      [
        "a vector of the wrong length",
        jsonReply(wire.answer(JSON.stringify(new Array(wire.dimensions - 1).fill(0.5)), 3)),
        new RegExp(`${wire.dimensions - 1} dimensions, expected ${wire.dimensions}`),
      ],
      ["no vector at all", { body: wire.noVector }, /no vector/],
      ["a vector of zeros", jsonReply(wire.answer(zeros, 3)), /all zeros/],
      ["a vector that is not a list", jsonReply(wire.answer('"0.1,0.2"', 3)), /no vector/],
      ["a body that is not JSON", jsonReply("<html>Gateway</html>"), /JSON|call failed/],
    ];
    for (const [what, reply, reason] of malformed) {
      it(`refuses an answer with ${what}: embedder_failed, not retried`, async () => {
        const embedder = await embedderWith([reply]);
        const error = await failure(embedder.embedQuery(QUERY));
        expect(error).toMatchObject({ code: "embedder_failed", retryable: false });
        expect(error.message).toMatch(reason);
        expect(server?.requests).toHaveLength(1);
      });
    }

    it("holds a model to one vector length: an answer of another length later is refused", async () => {
      // A model whose length the adapter cannot know in advance.
      const env = { PHOTOCAT_EMBEDDING_MODEL: "custom-embedder:1" };
      const short = (request: RecordedRequest): FakeReply => {
        // Only the length differs from a good answer.
        expect(request.method).toBe("POST");
        return jsonReply(wire.answer(JSON.stringify([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]), 3));
      };
      const long = (request: RecordedRequest): FakeReply => {
        expect(request.method).toBe("POST");
        return jsonReply(wire.answer(JSON.stringify([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]), 3));
      };
      const embedder = await embedderWith([short, long], env);
      if (wire.name.startsWith("Bedrock")) {
        // Titan's length is asked for in every request: any other length is refused from the start.
        expect((await failure(embedder.embedQuery(QUERY))).message).toMatch(/8 dimensions, expected 1024/);
        return;
      }
      expect((await embedder.embedQuery(QUERY)).vector).toHaveLength(8);
      const error = await failure(embedder.embedQuery(QUERY));
      expect(error).toMatchObject({ code: "embedder_failed", retryable: false });
      expect(error.message).toMatch(/9 dimensions, expected 8/);
    });

    it("refuses an empty query without calling the provider", async () => {
      const embedder = await embedderWith();
      const error = await failure(embedder.embedQuery("   "));
      expect(error.code).toBe("invalid_request");
      expect(server?.requests).toHaveLength(0);
    });

    it("stops when the caller has aborted", async () => {
      const embedder = await embedderWith();
      const controller = new AbortController();
      controller.abort(new Error("lease lost"));
      await expect(embedder.embedPhoto({ ...photoInput(), signal: controller.signal })).rejects.toThrow(
        "lease lost",
      );
    });
  });
}

describe("Bedrock embedder: what Titan is sent", () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const titan = WIRES[0]!;

  async function titanEmbedder(): Promise<Embedder> {
    server = await startFakeServer(
      (request) => jsonReply(titan.answer(JSON.stringify(fakeEmbedding(titan.read(request), 1024)), 7)),
      { http2: true },
    );
    return titan.create(server.url, {}, { retry: FAST_RETRY });
  }

  it("sends the photo as base64 JPEG with its description and asks for 1024 dimensions", async () => {
    const embedder = await titanEmbedder();
    await embedder.embedPhoto({ bytes: photo, mediaType: "image/jpeg", description: PHOTO_DESCRIPTION });
    const body = JSON.parse(server!.requests[0]!.body.toString("utf8")) as Record<string, unknown>;
    expect(body.inputText).toBe(PHOTO_DESCRIPTION);
    expect(body.embeddingConfig).toEqual({ outputEmbeddingLength: 1024 });
    const sent = await sharp(Buffer.from(body.inputImage as string, "base64")).metadata();
    expect(sent).toMatchObject({ format: "jpeg", width: 640, height: 480 });
  });

  it("resizes an image larger than 2048 x 2048 before sending it, and re-encodes a PNG as JPEG", async () => {
    const embedder = await titanEmbedder();
    const big = await makePhoto({ width: 3000, height: 1500, format: "png" });
    await embedder.embedPhoto({ bytes: big, mediaType: "image/png", description: PHOTO_DESCRIPTION });
    const body = JSON.parse(server!.requests[0]!.body.toString("utf8")) as Record<string, unknown>;
    const sent = await sharp(Buffer.from(body.inputImage as string, "base64")).metadata();
    expect(sent).toMatchObject({ format: "jpeg", width: 2048, height: 1024 });
  });

  it("cuts a long description to Titan's text limit, at a word boundary", async () => {
    const embedder = await titanEmbedder();
    const long = `${"seaside ".repeat(200)}end`;
    await embedder.embedPhoto({ bytes: photo, mediaType: "image/jpeg", description: long });
    const body = JSON.parse(server!.requests[0]!.body.toString("utf8")) as Record<string, unknown>;
    const text = body.inputText as string;
    expect(text.length).toBeLessThanOrEqual(512);
    expect(text.length).toBeGreaterThan(400);
    expect(long.startsWith(text)).toBe(true);
    expect(text.endsWith("seaside")).toBe(true);
  });

  it("sends a text Titan refuses as too long again, shorter", async () => {
    server = await startFakeServer(
      (request, index) =>
        index === 0
          ? awsError(
              400,
              "ValidationException",
              "Too many input tokens. Max input tokens: 256, request input token count: 301",
            )
          : jsonReply(titan.answer(JSON.stringify(fakeEmbedding(titan.read(request), 1024)), 250)),
      { http2: true },
    );
    const embedder = await titan.create(server.url, {}, { retry: FAST_RETRY });
    const description = `${"harbour ".repeat(60)}end`;
    const embedding = await embedder.embedPhoto({ bytes: photo, mediaType: "image/jpeg", description });
    expectUnitVector(embedding.vector, 1024);
    expect(embedding.usage.inputTokens).toBe(250);
    const sent = server.requests.map((r) => titan.read(r).text);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.length).toBeLessThanOrEqual(sent[0]!.length / 2);
    expect(sent[0]!.startsWith(sent[1]!)).toBe(true);
  });

  it("does not cut the text for other bad requests", async () => {
    server = await startFakeServer([awsError(400, "ValidationException", "Malformed input request")], {
      http2: true,
    });
    const embedder = await titan.create(server.url, {}, { retry: FAST_RETRY });
    const error = await failure(embedder.embedQuery(QUERY));
    expect(error).toMatchObject({ code: "embedder_failed", retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it("embeds a photo without a description by its image alone", async () => {
    const embedder = await titanEmbedder();
    const embedding = await embedder.embedPhoto({ bytes: photo, mediaType: "image/jpeg", description: "" });
    expectUnitVector(embedding.vector, 1024);
    const body = JSON.parse(server!.requests[0]!.body.toString("utf8")) as Record<string, unknown>;
    expect(body).not.toHaveProperty("inputText");
    expect(typeof body.inputImage).toBe("string");
  });

  it("sends a query as text only", async () => {
    const embedder = await titanEmbedder();
    await embedder.embedQuery(QUERY);
    const body = JSON.parse(server!.requests[0]!.body.toString("utf8")) as Record<string, unknown>;
    expect(body).toEqual({ inputText: QUERY, embeddingConfig: { outputEmbeddingLength: 1024 } });
  });
});

describe("text-only embedders: what they are sent", () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  for (const wire of WIRES.filter((w) => !w.seesImages)) {
    it(`${wire.name}: refuses a photo without a description, without calling the provider`, async () => {
      server = await startFakeServer([{ status: 500 }]);
      const embedder = await wire.create(server.url, {}, { retry: FAST_RETRY });
      const error = await failure(
        embedder.embedPhoto({ bytes: photo, mediaType: "image/jpeg", description: " " }),
      );
      expect(error).toMatchObject({ code: "embedder_failed", retryable: false });
      expect(error.message).toMatch(/no description/);
      expect(server.requests).toHaveLength(0);
    });
  }

  it("OpenAI-compatible: asks the server at OPENAI_BASE_URL for the model set, of any vector length", async () => {
    server = await startFakeServer((request) => {
      const body = JSON.parse(request.body.toString("utf8")) as { model: string; input: string };
      expect([request.url, body.model]).toEqual(["/v1/embeddings", "bge-m3"]);
      return jsonReply(WIRES[1]!.answer(JSON.stringify(fakeEmbedding({ text: body.input }, 1024)), 9));
    });
    const embedder = await createOpenAIEmbedder(
      openaiEmbedderSettings(
        testConfig({ OPENAI_BASE_URL: `${server.url}/v1`, PHOTOCAT_EMBEDDING_MODEL: "bge-m3" }),
      ),
    );
    const embedding = await embedder.embedQuery(QUERY);
    expectUnitVector(embedding.vector, 1024);
    // No price is known for a local model: it costs nothing here.
    expect(embedding.usage).toMatchObject({ inputTokens: 9, costUsd: 0 });
  });

  it("Ollama: gives nomic-embed-text its task prefixes, for documents and for queries", async () => {
    const ollama = WIRES[2]!;
    server = await startFakeServer((request) =>
      jsonReply(ollama.answer(JSON.stringify(fakeEmbedding(ollama.read(request), 768)), 5)),
    );
    const embedder = await ollama.create(server.url, {}, { retry: FAST_RETRY });
    await embedder.embedPhoto({ bytes: photo, mediaType: "image/jpeg", description: PHOTO_DESCRIPTION });
    await embedder.embedQuery(QUERY);
    expect(ollama.read(server.requests[0]!).text).toBe(`search_document: ${PHOTO_DESCRIPTION}`);
    expect(ollama.read(server.requests[1]!).text).toBe(`search_query: ${QUERY}`);
  });
});
