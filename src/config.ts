import { isIP } from "node:net";
import path from "node:path";
import { z } from "zod";
import { ConfigurationError } from "./domain/errors.js";
import { DEFAULT_TAXONOMY, parseTaxonomy, type Taxonomy } from "./domain/taxonomy.js";

/** The only module that reads the environment. Every setting also has a CLI flag (see cli/settings-flags.ts). */

export const ANALYSER_NAMES = ["local", "anthropic", "bedrock", "openai", "ollama"] as const;
export type AnalyserName = (typeof ANALYSER_NAMES)[number];

/** Providers with an embeddings API (Anthropic has none). */
export const EMBEDDING_PROVIDERS = ["bedrock", "openai", "ollama"] as const;
export type EmbeddingProvider = (typeof EMBEDDING_PROVIDERS)[number];
const isEmbeddingProvider = (name: string): name is EmbeddingProvider =>
  (EMBEDDING_PROVIDERS as readonly string[]).includes(name);

export interface ProviderSettings {
  anthropic: { apiKey: string | null; baseUrl: string | null };
  bedrock: { region: string | null; endpoint: string | null };
  openai: { apiKey: string | null; baseUrl: string | null };
  ollama: { host: string };
  /** Per-provider pacing and robustness. */
  requestsPerMinute: number | null;
  timeoutMs: number;
  maxRetries: number;
  /**
   * USD per million tokens, overriding the built-in table: {"model":{"input":1,"output":5}}; `output`
   * may be left out (0, embedding models) and `image` is USD per image embedded.
   */
  prices: Record<string, { input: number; output: number; image?: number }>;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string;
  storageUrl: string;
  /** Keep an XMP sidecar beside each original in the storage, rewritten when its description changes. */
  storageSidecars: boolean;
  analyser: AnalyserName;
  model: string | null;
  concurrency: number;
  maxUploadBytes: number;
  maxPixels: number;
  language: string;
  shareContext: boolean;
  password: string | null;
  apiTokens: string[];
  corsOrigins: string[];
  /**
   * Whether X-Forwarded-Proto/-For are believed: true for any peer (one proxy in front), or only when the
   * peer is one of these addresses; false ignores them.
   */
  trustedProxy: boolean | string[];
  taxonomy: Taxonomy;
  logLevel: string;
  providers: ProviderSettings;
  /**
   * Search by meaning: who embeds photos and queries (null: off) and the model (null: the provider's
   * default). The provider's connection settings are the analyser's (region, base URL and key, host).
   */
  embeddings: { provider: EmbeddingProvider | null; model: string | null };
  /** For PHOTOCAT_STORAGE_URL=s3://...: the AWS SDK's standard settings (credentials come from its chain). */
  s3: { region: string | null; endpoint: string | null };
  /**
   * PHOTOCAT_QUEUE_URL: where jobs go when not in the catalogue's database (`sqs`: an SQS queue with the
   * jobs' state in a DynamoDB table); `maxReceives` is the queue's redrive maxReceiveCount.
   */
  queue: {
    sqs: { queueUrl: string; jobsTable: string; region: string | null; endpoint: string | null } | null;
    maxReceives: number;
  };
  /** Originals are downloaded from the store at a short-lived signed URL (302), where the store can sign. */
  signedDownloads: boolean;
  /** PHOTOCAT_DROP_ZONE_URL: an S3 bucket (and prefix) whose incoming/ objects are ingested, and uploads go to. */
  dropZone: { bucket: string; prefix: string; region: string | null; endpoint: string | null } | null;
}

export type SettingName = keyof typeof SETTINGS;

/** Setting name (environment variable) -> value given on the command line, both optional. */
export type SettingOverrides = Partial<Record<SettingName, string | undefined>>;

export interface LoadOptions {
  /** How the user spelled each override (its flag, e.g. --port), so errors name what was typed. */
  labels?: Partial<Record<SettingName, string>>;
  /** A command's own defaults, used when neither the override nor the environment sets a value. */
  defaults?: SettingOverrides;
}

/**
 * Environment variable names with their CLI flag; documented in the README. `default` is the value used
 * when the setting is unset, unless it is in <angle brackets>: then it describes a default worked out
 * from other settings.
 */
export const SETTINGS = {
  PHOTOCAT_HOST: { flag: "--host", help: "address to listen on", default: "127.0.0.1" },
  PHOTOCAT_PORT: { flag: "--port", help: "port to listen on", default: "3000" },
  PHOTOCAT_DATA_DIR: { flag: "--data-dir", help: "folder for the database and photos", default: "./data" },
  PHOTOCAT_DATABASE_URL: {
    flag: "--database-url",
    help: "sqlite:path, postgres://... or dynamodb://table?region=..&endpoint=..",
    default: "<data dir>/photocat.db",
  },
  PHOTOCAT_STORAGE_URL: {
    flag: "--storage-url",
    help: "folder or s3://bucket/prefix for photos",
    default: "<data dir>/blobs",
  },
  PHOTOCAT_STORAGE_SIDECARS: {
    flag: "--storage-sidecars",
    help: "keep an XMP sidecar beside each original in the storage, rewritten when its description changes (on/off)",
    default: "off",
  },
  PHOTOCAT_SIGNED_DOWNLOADS: {
    flag: "--signed-downloads",
    help: "send originals from an S3 store by a redirect to a signed URL valid 5 minutes (on/off)",
    default: "off",
  },
  PHOTOCAT_QUEUE_URL: {
    flag: "--queue-url",
    help: "sqs://host/account/queue?jobs=<DynamoDB table>[&region=&endpoint=] for an SQS job queue",
    default: "<the catalogue's database>",
  },
  PHOTOCAT_QUEUE_MAX_RECEIVES: {
    flag: "--queue-max-receives",
    help: "deliveries of a queue message before it goes to the dead-letter queue (the redrive maxReceiveCount)",
    default: "5",
  },
  PHOTOCAT_DROP_ZONE_URL: {
    flag: "--drop-zone-url",
    help: "s3://bucket/prefix[?region=&endpoint=] whose incoming/ files are ingested (and browsers upload to directly)",
    default: "<none>",
  },
  PHOTOCAT_ANALYSER: { flag: "--analyser", help: `one of ${ANALYSER_NAMES.join(", ")}`, default: "local" },
  PHOTOCAT_MODEL: { flag: "--model", help: "model id for the analyser", default: "<per analyser>" },
  PHOTOCAT_EMBEDDINGS: {
    flag: "--embeddings",
    help: `who embeds photos and queries for search by meaning: off, ${EMBEDDING_PROVIDERS.join(", ")}`,
    default:
      "<the analyser when it is bedrock, openai (a compatible server: with a model set) or ollama, else off>",
  },
  PHOTOCAT_EMBEDDING_MODEL: {
    flag: "--embedding-model",
    help: "embedding model id",
    default: "<per embeddings provider>",
  },
  PHOTOCAT_CONCURRENCY: { flag: "--concurrency", help: "photos analysed at once", default: "2" },
  PHOTOCAT_MAX_UPLOAD_MB: { flag: "--max-upload-mb", help: "largest accepted file in MB", default: "50" },
  PHOTOCAT_MAX_PIXELS: {
    flag: "--max-pixels",
    help: "largest accepted image in pixels",
    default: "100000000",
  },
  PHOTOCAT_LANGUAGE: { flag: "--language", help: "language of descriptions", default: "en" },
  PHOTOCAT_SHARE_CONTEXT: {
    flag: "--share-context",
    help: "give capture date and place to the model (on/off)",
    default: "off",
  },
  PHOTOCAT_PASSWORD: { flag: "--password", help: "password for the web gallery and API", default: "" },
  PHOTOCAT_API_TOKENS: { flag: "--api-tokens", help: "comma-separated bearer tokens", default: "" },
  PHOTOCAT_CORS_ORIGINS: { flag: "--cors-origins", help: "comma-separated allowed origins", default: "" },
  PHOTOCAT_TRUSTED_PROXY: {
    flag: "--trusted-proxy",
    help: "believe X-Forwarded-Proto/-For from a TLS proxy: on/off or its comma-separated addresses",
    default: "off",
  },
  PHOTOCAT_TAXONOMY: {
    flag: "--taxonomy",
    help: "your categories: 'slug: description' separated by ';'",
    default: "<built-in>",
  },
  PHOTOCAT_LOG_LEVEL: { flag: "--log-level", help: "trace, debug, info, warn, error", default: "info" },
  PHOTOCAT_RPM: {
    flag: "--rpm",
    help: "requests per minute allowed to a remote analyser",
    default: "<none>",
  },
  PHOTOCAT_TIMEOUT_MS: { flag: "--timeout-ms", help: "time limit per analyser call", default: "120000" },
  PHOTOCAT_MAX_RETRIES: { flag: "--max-retries", help: "retries per analyser call", default: "4" },
  PHOTOCAT_PRICES: {
    flag: "--prices",
    help: "JSON price table override (USD per Mtok)",
    default: "<built-in>",
  },
} as const;

const onOff = (name: string) =>
  z.string().transform((v, ctx) => {
    const s = v.trim().toLowerCase();
    if (["1", "on", "true", "yes"].includes(s)) return true;
    if (["", "0", "off", "false", "no"].includes(s)) return false;
    ctx.addIssue({ code: "custom", message: `${name} must be on or off` });
    return z.NEVER;
  });

const int = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`);

const list = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: SettingOverrides = {},
  options: LoadOptions = {},
): Config {
  const given = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);
  const get = (name: SettingName): string | undefined =>
    given(overrides[name]) ?? given(env[name]) ?? given(options.defaults?.[name]);
  /** The value, or the default written in SETTINGS. */
  const value = (name: SettingName): string => {
    const fallback: string = SETTINGS[name].default;
    if (fallback.startsWith("<")) throw new Error(`${name} has no literal default`);
    return get(name) ?? fallback;
  };
  /** Errors name the flag when the value came from one, the environment variable otherwise. */
  const label = (name: SettingName): string =>
    given(overrides[name]) !== undefined ? (options.labels?.[name] ?? name) : name;
  const fail = (message: string): never => {
    throw new ConfigurationError(message);
  };
  const parse = <T>(name: SettingName, schema: z.ZodType<T>, raw: unknown): T => {
    const r = schema.safeParse(raw);
    if (!r.success) fail(r.error.issues[0]?.message ?? `${label(name)} is invalid`);
    return (r as { data: T }).data;
  };
  const integer = (name: SettingName, min: number, max: number, raw = value(name)) =>
    parse(name, int(label(name), min, max), raw);

  const dataDir = path.resolve(value("PHOTOCAT_DATA_DIR"));
  const analyser = value("PHOTOCAT_ANALYSER").toLowerCase();
  if (!(ANALYSER_NAMES as readonly string[]).includes(analyser)) {
    fail(`${label("PHOTOCAT_ANALYSER")} must be one of ${ANALYSER_NAMES.join(", ")} (got "${analyser}")`);
  }
  // Unset: the analyser's provider embeds too, when it can; an OpenAI-compatible server has no default
  // embedding model, so it embeds only when PHOTOCAT_EMBEDDING_MODEL names one.
  const embeddingModel = get("PHOTOCAT_EMBEDDING_MODEL")?.trim() || null;
  const compatibleServerWithoutModel =
    analyser === "openai" && !isOpenAIItself(env.OPENAI_BASE_URL || null) && !embeddingModel;
  const embeddingsSetting =
    get("PHOTOCAT_EMBEDDINGS")?.trim().toLowerCase() ?? (compatibleServerWithoutModel ? "off" : analyser);
  const embeddingProvider = isEmbeddingProvider(embeddingsSetting) ? embeddingsSetting : null;
  if (get("PHOTOCAT_EMBEDDINGS") !== undefined && !embeddingProvider && embeddingsSetting !== "off") {
    fail(
      `${label("PHOTOCAT_EMBEDDINGS")} must be off or one of ${EMBEDDING_PROVIDERS.join(", ")} (got "${embeddingsSetting}")${
        embeddingsSetting === "anthropic" ? ": Anthropic has no embeddings API" : ""
      }`,
    );
  }
  let taxonomy = DEFAULT_TAXONOMY;
  const taxonomySetting = get("PHOTOCAT_TAXONOMY");
  if (taxonomySetting) {
    try {
      taxonomy = parseTaxonomy(taxonomySetting.split(";").filter((s) => s.trim()));
    } catch (error) {
      fail(`${label("PHOTOCAT_TAXONOMY")}: ${(error as Error).message}`);
    }
  }
  let prices: ProviderSettings["prices"] = {};
  const pricesSetting = get("PHOTOCAT_PRICES");
  if (pricesSetting) {
    const schema = z.record(
      z.string(),
      z.object({
        input: z.number().min(0),
        output: z.number().min(0).default(0),
        image: z.number().min(0).optional(),
      }),
    );
    let json: unknown;
    try {
      json = JSON.parse(pricesSetting);
    } catch {
      fail(`${label("PHOTOCAT_PRICES")} must be JSON like {"model":{"input":1,"output":5}}`);
    }
    prices = parse("PHOTOCAT_PRICES", schema, json);
  }
  const rpm = get("PHOTOCAT_RPM");
  const queueUrl = get("PHOTOCAT_QUEUE_URL");
  const s3 = {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || null,
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || null,
  };
  const dropZoneUrl = get("PHOTOCAT_DROP_ZONE_URL");

  // A secret anyone could guess in a few tries protects nothing: refuse to start with one.
  const password = get("PHOTOCAT_PASSWORD") ?? null;
  if (password !== null && (password.length < 8 || !password.trim())) {
    fail("PHOTOCAT_PASSWORD (--password) must be at least 8 characters and not only spaces");
  }
  const apiTokens = list(get("PHOTOCAT_API_TOKENS"));
  if (apiTokens.some((token) => token.length < 16)) {
    fail(
      "PHOTOCAT_API_TOKENS (--api-tokens): each token must be at least 16 characters (try: openssl rand -hex 24)",
    );
  }
  let trustedProxy: boolean | string[] = false;
  const proxySetting = get("PHOTOCAT_TRUSTED_PROXY")?.trim();
  if (proxySetting && /^(1|on|true|yes)$/i.test(proxySetting)) trustedProxy = true;
  else if (proxySetting && !/^(0|off|false|no)$/i.test(proxySetting)) {
    trustedProxy = list(proxySetting);
    const bad = trustedProxy.find((address) => !isIP(address));
    if (bad !== undefined) {
      fail(`PHOTOCAT_TRUSTED_PROXY must be on, off or IP addresses separated by commas (got "${bad}")`);
    }
  }

  return {
    host: value("PHOTOCAT_HOST"),
    port: integer("PHOTOCAT_PORT", 0, 65535),
    dataDir,
    databaseUrl: get("PHOTOCAT_DATABASE_URL") ?? `sqlite:${path.join(dataDir, "photocat.db")}`,
    storageUrl: get("PHOTOCAT_STORAGE_URL") ?? path.join(dataDir, "blobs"),
    storageSidecars: parse(
      "PHOTOCAT_STORAGE_SIDECARS",
      onOff(label("PHOTOCAT_STORAGE_SIDECARS")),
      value("PHOTOCAT_STORAGE_SIDECARS"),
    ),
    analyser: analyser as AnalyserName,
    model: get("PHOTOCAT_MODEL") ?? null,
    embeddings: { provider: embeddingProvider, model: embeddingModel },
    concurrency: integer("PHOTOCAT_CONCURRENCY", 1, 64),
    maxUploadBytes: integer("PHOTOCAT_MAX_UPLOAD_MB", 1, 4096) * 1024 * 1024,
    maxPixels: integer("PHOTOCAT_MAX_PIXELS", 1, 2_000_000_000),
    language: parse(
      "PHOTOCAT_LANGUAGE",
      z
        .string()
        .regex(
          /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/,
          `${label("PHOTOCAT_LANGUAGE")} must be a language tag like en or pt-BR`,
        ),
      value("PHOTOCAT_LANGUAGE"),
    ),
    shareContext: parse(
      "PHOTOCAT_SHARE_CONTEXT",
      onOff(label("PHOTOCAT_SHARE_CONTEXT")),
      value("PHOTOCAT_SHARE_CONTEXT"),
    ),
    password,
    apiTokens,
    corsOrigins: list(get("PHOTOCAT_CORS_ORIGINS")),
    trustedProxy,
    taxonomy,
    logLevel: value("PHOTOCAT_LOG_LEVEL"),
    s3,
    queue: {
      sqs: queueUrl ? parseSqsUrl(label("PHOTOCAT_QUEUE_URL"), queueUrl) : null,
      maxReceives: integer("PHOTOCAT_QUEUE_MAX_RECEIVES", 1, 1000),
    },
    signedDownloads: parse(
      "PHOTOCAT_SIGNED_DOWNLOADS",
      onOff(label("PHOTOCAT_SIGNED_DOWNLOADS")),
      value("PHOTOCAT_SIGNED_DOWNLOADS"),
    ),
    dropZone: dropZoneUrl ? parseDropZoneUrl(label("PHOTOCAT_DROP_ZONE_URL"), dropZoneUrl, s3) : null,
    providers: {
      anthropic: { apiKey: env.ANTHROPIC_API_KEY || null, baseUrl: env.ANTHROPIC_BASE_URL || null },
      bedrock: {
        region: env.AWS_REGION || env.AWS_DEFAULT_REGION || null,
        endpoint: env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME || env.AWS_ENDPOINT_URL || null,
      },
      openai: { apiKey: env.OPENAI_API_KEY || null, baseUrl: env.OPENAI_BASE_URL || null },
      ollama: { host: env.OLLAMA_HOST || "http://127.0.0.1:11434" },
      requestsPerMinute: rpm ? integer("PHOTOCAT_RPM", 1, 1_000_000, rpm) : null,
      timeoutMs: integer("PHOTOCAT_TIMEOUT_MS", 100, 3_600_000),
      maxRetries: integer("PHOTOCAT_MAX_RETRIES", 0, 20),
      prices,
    },
  };
}

/**
 * `sqs://sqs.eu-west-1.amazonaws.com/123456789012/photocat-jobs?jobs=photocat-jobs`: the queue's URL
 * (https, or `endpoint` when given: an emulator) and the DynamoDB table keeping the jobs' state.
 */
function parseSqsUrl(name: string, value: string): NonNullable<Config["queue"]["sqs"]> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`${name} must be a URL like sqs://host/account/queue?jobs=table`);
  }
  if (url.protocol !== "sqs:") {
    throw new ConfigurationError(
      `${name}: unsupported scheme "${url.protocol}" (use sqs://host/account/queue?jobs=table)`,
    );
  }
  const jobsTable = url.searchParams.get("jobs");
  if (!jobsTable) throw new ConfigurationError(`${name} needs ?jobs=<DynamoDB table> for the jobs' state`);
  if (!url.host || url.pathname.split("/").filter(Boolean).length !== 2) {
    throw new ConfigurationError(`${name} must name the queue as sqs://host/account/queue (got "${value}")`);
  }
  const endpoint = url.searchParams.get("endpoint");
  return {
    queueUrl: `${endpoint ?? `https://${url.host}`}${url.pathname}`,
    jobsTable,
    region: url.searchParams.get("region"),
    endpoint,
  };
}

/** `s3://bucket/prefix`, with `?region=&endpoint=` for an S3-compatible server or an emulator. */
function parseDropZoneUrl(name: string, value: string, s3: Config["s3"]): NonNullable<Config["dropZone"]> {
  const [location = "", query = ""] = value.split("?", 2);
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (!match?.[1])
    throw new ConfigurationError(`${name} must be s3://bucket or s3://bucket/prefix (got "${value}")`);
  const params = new URLSearchParams(query);
  return {
    bucket: match[1],
    prefix: (match[2] ?? "").replace(/^\/+|\/+$/g, ""),
    region: params.get("region") ?? s3.region,
    endpoint: params.get("endpoint") ?? s3.endpoint,
  };
}

/** True when OPENAI_BASE_URL is unset or OpenAI's own API; otherwise it is an OpenAI-compatible server. */
export function isOpenAIItself(baseUrl: string | null): boolean {
  if (!baseUrl) return true;
  try {
    return new URL(baseUrl).hostname === "api.openai.com";
  } catch {
    return false;
  }
}

/** Whether the user asked for debug logs (stack traces on CLI errors); read before any Config exists. */
export function debugRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PHOTOCAT_LOG_LEVEL === "debug" || env.PHOTOCAT_LOG_LEVEL === "trace";
}

/** True when the server would be reachable from other machines. */
export function isExposed(host: string): boolean {
  return !["127.0.0.1", "localhost", "::1", "[::1]"].includes(host) && !host.startsWith("127.");
}
