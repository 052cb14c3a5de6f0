import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the fake model answers (the fields of the shared answer schema). */
export interface FakeAnswer {
  summary: string;
  category: string;
  tags: string[];
  alt_text: string;
  text: string | null;
  confidence: number;
}

export const PLAIN_ANSWER: FakeAnswer = {
  summary: "A calm landscape with hills under a blue sky.",
  category: "nature",
  tags: ["hills", "sky"],
  alt_text: "Green hills under a blue sky",
  text: null,
  confidence: 0.8,
};

export interface FakeProviderOptions {
  /** How long each accepted request takes to answer. */
  latencyMs?: number;
  /** Requests accepted in any sliding 60 s window; beyond, 429 with retry-after. Unlimited when absent. */
  perMinute?: number;
  /** Answers 503 to every request until this many ms after the server started (or after `startOutage`). */
  outageMs?: number;
  answer?: FakeAnswer;
}

export interface FakeProviderStats {
  requests: number;
  answered: number;
  rateLimited: number;
  unavailable: number;
  /** Accepted requests not answered yet. */
  inFlight: number;
  /** Epoch ms of every accepted request's arrival. */
  acceptedAt: number[];
}

export interface FakeProvider {
  /** Base URL for OPENAI_BASE_URL, ending in /v1. */
  baseUrl: string;
  stats: FakeProviderStats;
  /** Starts (or restarts) an outage of `ms` from now. */
  startOutage(ms: number): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // The image is not looked at; reading the body keeps the connection reusable.
  }
}

/**
 * An OpenAI-compatible chat-completions server on 127.0.0.1 that behaves like a paid API: it takes its
 * time, enforces a per-minute request limit with 429 + retry-after, and can go down (503) for a while.
 */
export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const latencyMs = options.latencyMs ?? 0;
  const answer = options.answer ?? PLAIN_ANSWER;
  const stats: FakeProviderStats = {
    requests: 0,
    answered: 0,
    rateLimited: 0,
    unavailable: 0,
    inFlight: 0,
    acceptedAt: [],
  };
  let outageUntil = options.outageMs ? Date.now() + options.outageMs : 0;
  const window: number[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: { message: "fake provider failed" } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await drain(req);
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      send(res, 404, {
        error: { message: `no route ${req.method} ${req.url}`, type: "invalid_request_error" },
      });
      return;
    }
    stats.requests++;
    const now = Date.now();
    if (now < outageUntil) {
      stats.unavailable++;
      send(res, 503, { error: { message: "the service is temporarily unavailable", type: "server_error" } });
      return;
    }
    if (options.perMinute) {
      while (window.length > 0 && window[0]! <= now - 60_000) window.shift();
      if (window.length >= options.perMinute) {
        stats.rateLimited++;
        const waitMs = window[0]! + 60_000 - now;
        send(
          res,
          429,
          {
            error: {
              message: "Rate limit reached for requests",
              type: "requests",
              code: "rate_limit_exceeded",
            },
          },
          { "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))) },
        );
        return;
      }
      window.push(now);
    }
    stats.acceptedAt.push(now);
    stats.inFlight++;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    stats.inFlight--;
    stats.answered++;
    send(res, 200, {
      id: `chatcmpl-${stats.requests}`,
      object: "chat.completion",
      created: Math.floor(now / 1000),
      model: "fake-vision-1",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: JSON.stringify(answer), refusal: null },
          finish_reason: "stop",
        },
      ],
      usage: { prompt_tokens: 1000, completion_tokens: 80, total_tokens: 1080 },
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    stats,
    startOutage(ms: number) {
      outageUntil = Date.now() + ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The environment that points Photocat's OpenAI analyser at a fake provider. */
export function fakeProviderEnv(provider: FakeProvider): Record<string, string> {
  return {
    PHOTOCAT_ANALYSER: "openai",
    PHOTOCAT_MODEL: "fake-vision-1",
    OPENAI_BASE_URL: provider.baseUrl,
    OPENAI_API_KEY: "sk-fake",
    PHOTOCAT_PRICES: JSON.stringify({ "fake-vision-1": { input: 0.1, output: 0.4 } }),
  };
}
