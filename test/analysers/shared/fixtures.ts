import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import {
  createServer as createHttp2Server,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  constants as http2Constants,
} from "node:http2";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { expect } from "vitest";
import { type Config, loadConfig } from "../../../src/config.js";
import { PhotocatError } from "../../../src/domain/errors.js";

/** A photo made on the fly: a gradient with a few shapes, optionally with EXIF orientation and GPS. */
export async function makePhoto(options: {
  width: number;
  height: number;
  format?: "jpeg" | "png" | "webp" | "tiff";
  orientation?: number;
  gps?: boolean;
  alpha?: boolean;
}): Promise<Buffer> {
  const { width, height } = options;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g"><stop offset="0" stop-color="#2a6"/><stop offset="1" stop-color="#fa3"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)" ${options.alpha ? 'fill-opacity="0.5"' : ""}/>
    <circle cx="${width / 3}" cy="${height / 2}" r="${Math.min(width, height) / 4}" fill="#c22"/>
    <rect x="${width / 2}" y="${height / 4}" width="${width / 3}" height="${height / 2}" fill="#229"/>
  </svg>`;
  let image = sharp(Buffer.from(svg));
  if (!options.alpha) image = image.flatten({ background: "#ffffff" });
  if (options.orientation || options.gps) {
    image = image.withExif({
      IFD0: { Make: "TestCam" },
      ...(options.gps
        ? {
            IFD3: {
              GPSLatitudeRef: "N",
              GPSLatitude: "48/1 51/1 2979/100",
              GPSLongitudeRef: "E",
              GPSLongitude: "2/1 17/1 4020/100",
            },
          }
        : {}),
    });
  }
  if (options.orientation) image = image.withMetadata({ orientation: options.orientation });
  const format = options.format ?? "jpeg";
  return image.toFormat(format, format === "jpeg" ? { quality: 92 } : {}).toBuffer();
}

export async function imageSize(
  bytes: Buffer,
): Promise<{ width: number; height: number; format: string; exif: boolean }> {
  const meta = await sharp(bytes).metadata();
  return { width: meta.width, height: meta.height, format: meta.format, exif: Boolean(meta.exif) };
}

/** Config as the app would load it from these environment variables (nothing read from process.env). */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({ PHOTOCAT_TIMEOUT_MS: "2000", PHOTOCAT_MAX_RETRIES: "2", ...env });
}

/** Tiny retry delays so a test never sleeps for real. */
export const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20 } as const;

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  /** Wait before answering (a slow server). */
  delayMs?: number;
  /** Destroy the socket instead of answering (a dropped connection). */
  drop?: boolean;
  /** Send the status, headers and half the body, then destroy the connection (dropped mid-response). */
  truncate?: boolean;
}

/** Reads a nested value of a parsed JSON body: at(body, "messages", 0, "content"). */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** Like `at`, for a value that must be a string. */
export function textAt(value: unknown, ...path: (string | number)[]): string {
  const found = at(value, ...path);
  if (typeof found !== "string")
    throw new Error(`expected a string at ${path.join(".")}, got ${typeof found}`);
  return found;
}

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  json(index: number): unknown;
  close(): Promise<void>;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

/**
 * A local HTTP server that answers each request with the next scripted reply (the last one repeats).
 * `http2` serves cleartext HTTP/2 (prior knowledge), which the AWS SDK's default handler speaks.
 */
export async function startFakeServer(
  replies: FakeReply[] | ((request: RecordedRequest, index: number) => FakeReply),
  options: { http2?: boolean } = {},
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const handle = (req: AnyRequest, res: AnyResponse) => {
    req.on("error", () => {});
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      const index = requests.push(recorded) - 1;
      const reply =
        typeof replies === "function"
          ? replies(recorded, index)
          : (replies[Math.min(index, replies.length - 1)] ?? {});
      const send = () => answer(req, res, reply);
      if (reply.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, reply.delayMs);
        timers.add(timer);
      } else send();
    });
  };
  const sessions = new Set<Http2Session>();
  let closeConnections: () => void;
  let server: Server | Http2Server;
  if (options.http2) {
    const h2 = createHttp2Server(handle);
    h2.on("session", (session) => {
      sessions.add(session);
      session.on("close", () => sessions.delete(session));
      // A client that resets or a session we destroy on purpose must not crash the test process.
      session.on("error", () => {});
    });
    h2.on("stream", (stream) => stream.on("error", () => {}));
    closeConnections = () => {
      for (const session of sessions) session.destroy();
    };
    server = h2;
  } else {
    const h1 = createServer(handle);
    closeConnections = () => h1.closeAllConnections();
    server = h1;
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    json: (index: number) => JSON.parse(requests[index]?.body.toString("utf8") ?? "null") as unknown,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      closeConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(req: AnyRequest, res: AnyResponse, reply: FakeReply): void {
  if (res.destroyed) return;
  if (reply.drop) {
    if ("stream" in req) req.stream.session?.destroy();
    else req.socket.destroy();
    return;
  }
  const isJson = reply.body !== undefined && typeof reply.body !== "string" && !Buffer.isBuffer(reply.body);
  const body = isJson ? JSON.stringify(reply.body) : ((reply.body as string | Buffer | undefined) ?? "");
  res.writeHead(reply.status ?? 200, {
    "content-type": isJson ? "application/json" : "text/plain",
    "content-length": String(Buffer.byteLength(body)),
    ...reply.headers,
  });
  if (reply.truncate) {
    const bytes = Buffer.from(body);
    (res as ServerResponse).write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
      if ("stream" in req) req.stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
      else req.socket.destroy();
    });
    return;
  }
  res.end(body);
}

/** The URL of a local port nothing listens on (connection refused, no network needed). */
export async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A host under the reserved .invalid TLD: the resolver answers ENOTFOUND without any network. */
export const UNRESOLVABLE_URL = "http://photocat-test.invalid:8080";

/** A valid answer in the contract's snake_case shape. */
export function validAnswer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    summary: "A red circle and a blue rectangle on a green-to-orange gradient.",
    category: "art",
    tags: ["circle", "rectangle", "gradient"],
    alt_text: "Red circle and blue rectangle on a gradient",
    text: null,
    confidence: 0.8,
    ...overrides,
  };
}

/** Awaits a promise that must reject with a PhotocatError, and returns that error for further checks. */
export async function failure(promise: Promise<unknown>): Promise<PhotocatError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PhotocatError);
  return error as PhotocatError;
}
